<?php
// The worker for client.php's jobs: appends each job's payload as a line to gearman.log
// (beside this file, or WRITELOG_FILE). Gearmand: FPM_GEARMAN_SERVERS (set by an exec job pool),
// else GEARMAN_SERVERS, else 127.0.0.1:4730. One job at a time, in a loop; run it bare
// (`php worker.php`) or as a swift-fpm exec job pool (../redis-sync-php.conf, [writelog]).

$worker = new GearmanWorker();
$worker->addServers(getenv('FPM_GEARMAN_SERVERS') ?: getenv('GEARMAN_SERVERS') ?: '127.0.0.1:4730');
$worker->addFunction('writeLog', 'writeLog');
while ($worker->work()) {
    if ($worker->returnCode() != GEARMAN_SUCCESS) {
        break;
    }
}

function writeLog($job) {
    $file = getenv('WRITELOG_FILE') ?: __DIR__ . '/gearman.log';
    file_put_contents($file, $job->workload() . "\n", FILE_APPEND | LOCK_EX);
}
