import FPM
import FPMTesting
import Foundation
import Testing
import RedisSync

/// The job handler in-process (FPMTesting's JobTester) against a real redis-server.
@Suite(.serialized) struct SyncToRedisTests {
    @Test func outcomes() throws {
        let services = try Services("handler")
        defer { services.stop() }
        let redis = try RedisServer(services)
        let worker = WorkerInfo(pool: "sync", pid: 1, slot: 0, environment: [("REDIS_ADDRESS", redis.address.description)])
        let tester = try JobTester(SyncToRedis(), worker: worker)
        #expect(try tester.run(function: "syncToRedis", text: #"{"id": 3, "volume": 1, "version": 2}"#) == .completed([UInt8(ascii: "1")]))
        #expect(try tester.run(function: "syncToRedis", text: #"{"id": 3, "volume": 0, "version": 1}"#) == .completed([UInt8(ascii: "0")]))
        #expect(try redis.values(keys: ["3"]) == ["3": #"{"id": 3, "volume": 1, "version": 2}"#])
        #expect(try tester.run(function: "syncToRedis", text: #"{"volume": 1}"#) == .failed)
        #expect(try tester.run(function: "syncToRedis", text: "garbage") == .failed)
        // Redis gone: the one reconnect fails too, and the job fails with the reason.
        services.stop()
        guard case .exception(let text) = try tester.run(function: "syncToRedis", text: #"{"id": 3, "version": 3}"#) else {
            Issue.record("no exception with Redis stopped")
            return
        }
        #expect(text.contains("connect"), "\(text)")
    }

    @Test func aBadAddressStopsTheWorkerAtSetUp() {
        let worker = WorkerInfo(pool: "sync", pid: 1, slot: 0, environment: [("REDIS_ADDRESS", "nowhere:x")])
        #expect(throws: (any Error).self) { try JobTester(SyncToRedis(), worker: worker) }
    }
}
