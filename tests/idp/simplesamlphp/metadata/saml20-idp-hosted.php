<?php
/* The test IdP itself: signed assertions, rsa-sha256, urn:oid attribute names, persistent NameIDs. */
$idp = json_decode(file_get_contents(getenv('HFS_IDP_SETTINGS')), true, 512, JSON_THROW_ON_ERROR);

$metadata[$idp['entity_id']] = [
    'host' => '__DEFAULT__',
    'privatekey' => $idp['workdir'] . '/idp-key.pem',
    'certificate' => $idp['workdir'] . '/idp-cert.pem',
    'auth' => 'university-userpass',

    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.assertion' => true,
    'saml20.sign.response' => true,

    // Users' attributes are already keyed by urn:oid names, as in eduPerson federations.
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',

    // An opaque, stable per-SP id (sha1 of salt, IdP, SP and eduPersonPrincipalName), as
    // universities send; the SP's requested format (often "unspecified") falls back to this.
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'authproc' => [
        10 => ['class' => 'saml:PersistentNameID', 'attribute' => 'urn:oid:1.3.6.1.4.1.5923.1.1.1.6'],
    ],
];
