import Foundation
import Testing
@testable import RedisSync

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

    /// The scanner's answer, where it gives one, is JSONDecoder's; where it gives none,
    /// JSONDecoder decides. The trigger's own shape takes the fast path.
    @Test func theScannerAgreesWithJSONDecoder() {
        let fast = [
            #"{"id": 7, "volume": 12, "version": 3}"#, #"{"id":7}"#, #" { "version" : 2 , "id" : "a b" } "#,
            #"{"id": -9223372036854775808, "version": 9223372036854775807}"#, #"{"id": 0, "x": "", "y": -0}"#,
            "{\n\t\"id\": 1\r\n}",
        ]
        let slow = [
            #"{"id": 1.0}"#, #"{"id": 1e3}"#, #"{"id": 01}"#, #"{"id": "\u0041"}"#, #"{"id": "é"}"#, #"{"id": null}"#,
            #"{"id": 1, "id": 2}"#, #"{"id": 1, "version": 1, "version": 2}"#, #"{"id": 1, "n": {"id": 2}}"#,
            #"{"id": 1, "v": [1]}"#, #"{"id": 1, "b": true}"#, #"{"id": 9223372036854775808}"#, #"{"id": -}"#,
            #"{"id": 1,}"#, #"{"id": 1} x"#, #"{"id" 1}"#, #"{}"#, #"[]"#, "", #"{"id": 1, "volume": 1.5}"#,
            #"{"id": "a", "version": "1"}"#, #"{"id": 1"#, #"{"id": "1"#, #"{"volume": 1}"#,
        ]
        for json in fast + slow {
            let bytes = Array(json.utf8)
            let scanned = FlatPayloadScanner.scan(bytes)
            let reference = Result { () throws(SyncPayload.Invalid) in try SyncPayload.decoded(bytes) }
            if fast.contains(json) {
                #expect(scanned != nil && scanned == (try? reference.get()), "\(json)")
            } else {
                #expect(scanned == nil, "\(json)")
            }
            #expect((try? SyncPayload(json: bytes)) == (try? reference.get()), "\(json)")
        }
    }

    /// php/redis_worker.php reads sync_to_redis.lua; the Swift handler carries the same text.
    @Test func oneLuaScriptForBothWorkers() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sync_to_redis.lua")
        #expect(try String(contentsOf: file, encoding: .utf8) == RedisSyncWriter.script)
    }
}
