<?php
/* The SPs that the test IdP trusts; AuthnRequests must be signed with the SP's certificate. */
$idp = json_decode(file_get_contents(getenv('HFS_IDP_SETTINGS')), true, 512, JSON_THROW_ON_ERROR);

foreach ($idp['sps'] as $sp) {
    $metadata[$sp['entity_id']] = [
        'AssertionConsumerService' => [[
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
            'Location' => $sp['acs_url'],
        ]],
        'SingleLogoutService' => $sp['sls_url'] === null ? [] : [[
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
            'Location' => $sp['sls_url'],
        ]],
        'certData' => $sp['cert_data'],
        'validate.authnrequest' => true,
        'validate.logout' => true,
        'sign.logout' => true,
        'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
        'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        // Encrypt assertions to the SP's certificate when the test asks for it.
        'assertion.encryption' => $sp['encrypt'] ?? false,
    ];
}
