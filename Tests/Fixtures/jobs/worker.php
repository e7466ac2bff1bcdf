<?php
// The classic Gearman worker loop, as an exec job pool runs it (Tests/IntegrationTests/JobsNothingLostTests):
// the servers come from FPM_GEARMAN_SERVERS (set by fpm for an exec job pool), and each job's
// unique id is appended to env[TESTJOBS_DONE].
$done = getenv('TESTJOBS_DONE');
$worker = new GearmanWorker();
$worker->addServers(getenv('FPM_GEARMAN_SERVERS'));
$worker->addFunction('record', function (GearmanJob $job) use ($done) {
    file_put_contents($done, $job->unique() . ' ' . getmypid() . "\n", FILE_APPEND);
    return $job->workload();
});
while ($worker->work());
