<?php
/* Users of the test IdP: exampleauth:UserPass takes "username:password" => attributes. */
$idp = json_decode(file_get_contents(getenv('HFS_IDP_SETTINGS')), true, 512, JSON_THROW_ON_ERROR);

$users = [];
foreach ($idp['users'] as $user) {
    $users[$user['username'] . ':' . $user['password']] = $user['attributes'];
}

$config = [
    'admin' => ['core:AdminPassword'],
    'university-userpass' => array_merge(['exampleauth:UserPass'], $users),
];
