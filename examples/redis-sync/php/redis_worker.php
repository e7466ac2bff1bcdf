#!/usr/bin/env php
<?php
// The classic Gearman → Redis worker (the nohup-run daemon of the classic recipe), made safe against
// out-of-order and repeated jobs: the write is the version-guarded Lua script that the Swift
// job handler runs too (../sync_to_redis.lua), atomic in Redis.
//
// Bare, as the classic recipe runs it:   nohup php redis_worker.php &
// Supervised, as a swift-fpm exec job pool: exec = /usr/bin/php8.2 /path/to/redis_worker.php
// The gearmand servers: FPM_GEARMAN_SERVERS (an exec job pool sets it from gearman.servers), else
// GEARMAN_SERVERS, else 127.0.0.1:4730. Redis: REDIS_ADDRESS (default 127.0.0.1:6379).

$worker = new GearmanWorker();
$worker->addServers(getenv('FPM_GEARMAN_SERVERS') ?: getenv('GEARMAN_SERVERS') ?: '127.0.0.1:4730');
$worker->addFunction('syncToRedis', 'syncToRedis');

[$redisHost, $redisPort] = explode(':', getenv('REDIS_ADDRESS') ?: '127.0.0.1:6379') + [1 => '6379'];
$redis = new Redis();
$redis->connect($redisHost, (int)$redisPort);
$script = file_get_contents(__DIR__ . '/../sync_to_redis.lua');
$sha = $redis->script('load', $script);

// SIGTERM (a swift-fpm reload or stop) lets the job in hand finish, then the loop ends: work()
// wakes at least once a second to look. Any other failure (gearmand gone) ends the process;
// the job pool starts it again.
$stopping = false;
if (function_exists('pcntl_async_signals')) {
    pcntl_async_signals(true);
    pcntl_signal(SIGTERM, function () { $GLOBALS['stopping'] = true; });
    $worker->setTimeout(1000);
}
while (!$stopping) {
    $worker->work();
    $rc = $worker->returnCode();
    if ($rc != GEARMAN_SUCCESS && $rc != GEARMAN_TIMEOUT) {
        fwrite(STDERR, 'gearman: ' . $worker->error() . "\n");
        exit(1);
    }
}

function syncToRedis($job) {
    global $redis, $script, $sha;
    $workString = $job->workload();
    $work = json_decode($workString);
    if (!isset($work->id)) {
        $job->sendFail();
        return false;
    }
    $args = [(string)$work->id, $workString, (string)(int)($work->version ?? 0)];
    $written = $redis->evalSha($sha, $args, 1);
    if ($written === false && str_starts_with((string)$redis->getLastError(), 'NOSCRIPT')) {
        // Redis restarted or its script cache was flushed: EVAL loads it again.
        $redis->clearLastError();
        $written = $redis->eval($script, $args, 1);
    }
    if ($written === false) {
        throw new RuntimeException('redis: ' . $redis->getLastError());
    }
    return (string)$written;
}
