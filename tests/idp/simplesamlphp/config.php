<?php
/*
 * SimpleSAMLphp configuration for the test IdP (tests/idp/saml.py).
 * Everything that varies per run (URL, folders, salt) comes from the JSON file that
 * saml.py writes and names in the environment variable HFS_IDP_SETTINGS.
 */
$idp = json_decode(file_get_contents(getenv('HFS_IDP_SETTINGS')), true, 512, JSON_THROW_ON_ERROR);
$workdir = $idp['workdir'];

$config = [
    'baseurlpath' => $idp['base_url'],
    'certdir' => $workdir . '/',
    'loggingdir' => $workdir . '/',
    'datadir' => $workdir . '/data/',
    'tempdir' => $workdir . '/tmp',
    'metadatadir' => __DIR__ . '/metadata/',

    'technicalcontact_name' => 'Identity Services',
    'technicalcontact_email' => 'idm@northfield.test',
    'secretsalt' => $idp['secretsalt'],
    'auth.adminpassword' => $idp['admin_password'],
    'admin.protectindexpage' => false,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,  // no outside network in tests

    'showerrors' => true,
    'errorreporting' => false,  // the report form would post to the IdP itself; error text is enough
    'debug' => ['saml' => true, 'backtraces' => true, 'validatexml' => false],
    'logging.level' => SimpleSAML\Logger::DEBUG,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'statistics.out' => [],

    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],

    // Plain http on 127.0.0.1: cookies must not be Secure or the browser never sends them back.
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => $workdir . '/phpsession',
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,

    'metadata.sources' => [['type' => 'flatfile']],
    'metadata.sign.enable' => false,
    'production' => true,
];
