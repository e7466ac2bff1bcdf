<?php
// The smallest background job (the classic recipe's): what a web request does — queue
// the work and answer at once. worker.php (or a job pool running it) does the work.
//
//   php client.php ['Log content']      GEARMAN_SERVERS (default 127.0.0.1:4730) says where.

$client = new GearmanClient();
$client->addServers(getenv('GEARMAN_SERVERS') ?: '127.0.0.1:4730');
$client->doBackground('writeLog', $argv[1] ?? 'Log content');
if ($client->returnCode() != GEARMAN_SUCCESS) {
    fwrite(STDERR, 'gearman: ' . $client->error() . "\n");
    exit(1);
}
echo "queued\n";
