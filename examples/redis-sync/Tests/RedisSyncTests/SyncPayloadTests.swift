import Foundation
import Testing
import RedisSync

/// The trigger's payload read as the classic PHP worker reads it (key = the id as text), and
/// the Lua script the Swift and PHP workers share.
@Suite struct SyncPayloadTests {
    @Test func theTriggersPayload() throws {
        // MariaDB's JSON_OBJECT('id', NEW.id, 'volume', NEW.volume, 'version', NEW.version).
        #expect(try SyncPayload(json: Array(#"{"id": 7, "volume": 12, "version": 3}"#.utf8)) == SyncPayload(key: "7", version: 3))
        // The classic trigger sends no version: 0.
        #expect(try SyncPayload(json: Array(#"{"id": 7, "volume": 12}"#.utf8)) == SyncPayload(key: "7", version: 0))
        #expect(try SyncPayload(json: Array(#"{"id":"abc","version":9007199254740993}"#.utf8)) == SyncPayload(key: "abc", version: 9007199254740993))
        #expect(try SyncPayload(json: Array(#"{"id":-1}"#.utf8)).key == "-1")
    }

    @Test func whatIsRefused() {
        #expect(throws: SyncPayload.Invalid.missingID) { try SyncPayload(json: Array(#"{"volume": 1}"#.utf8)) }
        for bad in [#"[1]"#, #"{"id": 1, "version": "3"}"#, #"{"id": 1.5}"#, #"{"id": 1"#, "", #"{"id": true}"#, #"{"id":1,"version":1.5}"#] {
            #expect(throws: SyncPayload.Invalid.self, "\(bad)") { try SyncPayload(json: Array(bad.utf8)) }
        }
    }

    /// php/redis_worker.php reads sync_to_redis.lua; the Swift handler carries the same text.
    @Test func oneLuaScriptForBothWorkers() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sync_to_redis.lua")
        #expect(try String(contentsOf: file, encoding: .utf8) == RedisSyncWriter.script)
    }
}
