// The MySQL → Gearman → Redis sync's worker binary: a swift-fpm server whose job pools can
// run `handler = syncToRedis` (redis-sync.conf).
import FPM
import RedisSync

FPMMain.run(jobs: ["syncToRedis": SyncToRedis()])
