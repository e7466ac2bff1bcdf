import FPM
import RESP

/// The job handler `syncToRedis`: the trigger's payload in, the row's JSON stored in Redis
/// under its id unless Redis already holds a newer version of it (RedisSyncWriter).
///
/// One Redis connection per worker, opened in `setUp` from `env[REDIS_ADDRESS]` (`host:port`,
/// default 127.0.0.1:6379), so a wrong address stops the worker at its start and is logged,
/// rather than failing every job. A payload that is not the trigger's JSON fails the job
/// (WORK_FAIL); Redis unreachable even after one reconnect fails it with the reason
/// (WORK_EXCEPTION, in the error log). The result is `1` when written, `0` when Redis had a
/// newer version.
public final class SyncToRedis: JobHandler {
    private var writer: RedisSyncWriter?

    public init() {}

    public func setUp(_ worker: WorkerInfo) throws {
        let text = worker.environment.last { $0.0 == "REDIS_ADDRESS" }?.1 ?? RedisAddress.default.description
        let writer = RedisSyncWriter(address: try RedisAddress(parsing: text))
        try writer.connect()
        self.writer = writer
    }

    public func run(_ job: Job) throws -> [UInt8] {
        let payload: SyncPayload
        do {
            payload = try SyncPayload(json: job.payload)
        } catch {
            throw JobFailed()
        }
        guard let writer else { throw RESPError.closed }
        return try writer.write(payload, json: job.payload) ? Self.written : Self.older
    }

    private static let written: [UInt8] = [UInt8(ascii: "1")]
    private static let older: [UInt8] = [UInt8(ascii: "0")]

    public func tearDown() {
        writer?.close()
    }
}
