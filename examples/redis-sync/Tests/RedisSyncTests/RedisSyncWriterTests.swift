import Foundation
import Testing
import RESP
import RedisSync

/// The RESP connection and the version-guarded write against a real redis-server.
@Suite(.serialized) struct RedisSyncWriterTests {
    @Test func connectionAndTypedErrors() throws {
        let services = try Services("resp")
        defer { services.stop() }
        let redis = try RedisServer(services)
        let c = try RedisConnection(address: redis.address)
        #expect(try c.command("SET", "k", "v\r\n\0") == .simpleString("OK"))
        #expect(try c.command("GET", "k") == .bulkString(Array("v\r\n\0".utf8)))
        #expect(try c.command("GET", "missing") == .bulkString(nil))
        #expect(try c.command("INCR", "n") == .integer(1))
        #expect(try c.command("MGET", "k", "missing") == .array([.bulkString(Array("v\r\n\0".utf8)), .bulkString(nil)]))
        // A refused command is an error, and the connection goes on.
        #expect(throws: RESPError.server("ERR unknown command 'NOSUCH', with args beginning with: ")) { try c.command("NOSUCH") }
        #expect(try c.command("PING") == .simpleString("PONG"))
        // A 1 MiB value, sent and read back in pieces.
        let big = [UInt8](repeating: 66, count: 1 << 20)
        #expect(try c.command([Array("SET".utf8), Array("big".utf8), big]) == .simpleString("OK"))
        #expect(try c.command("GET", "big") == .bulkString(big))
        // No answer in time (BLPOP waits 2 s; the connection gives up after 0.2 s) → closed.
        let slow = try RedisConnection(address: redis.address, timeout: 0.2)
        #expect(throws: RESPError.timeout) { try slow.command("BLPOP", "nothing", "2") }
        #expect(!slow.isOpen)
        #expect(throws: RESPError.closed) { try slow.command("PING") }
        // The server going away: the next command says so.
        #expect(try c.command("CLIENT", "KILL", "SKIPME", "no") != .integer(0))
        #expect(throws: RESPError.closed) { try c.command("PING") }
        // Nobody listening.
        let port = Services.freePort()
        #expect(throws: RESPError.system(call: "connect", errno: ECONNREFUSED)) {
            try RedisConnection(address: RedisAddress(host: "127.0.0.1", port: port))
        }
    }

    @Test func newerVersionsWinInAnyOrder() throws {
        let services = try Services("writer")
        defer { services.stop() }
        let redis = try RedisServer(services)
        let writer = RedisSyncWriter(address: redis.address)
        func write(_ json: String) throws -> Bool {
            try writer.write(try SyncPayload(json: Array(json.utf8)), json: Array(json.utf8))
        }
        #expect(try write(#"{"id": 1, "volume": 10, "version": 2}"#))
        #expect(try !write(#"{"id": 1, "volume": 5, "version": 1}"#), "an older version is refused")
        #expect(try !write(#"{"id": 1, "volume": 5, "version": 2}"#), "the same version is not written again")
        #expect(try !write(#"{"id": 1, "volume": 5}"#), "an unversioned payload does not replace a versioned value")
        #expect(try redis.values(keys: ["1"]) == ["1": #"{"id": 1, "volume": 10, "version": 2}"#])
        #expect(try write(#"{"id": 1, "volume": 11, "version": 3}"#))
        // Unversioned payloads (the classic trigger's) behave as the classic worker: last wins.
        #expect(try write(#"{"id": "a", "volume": 1}"#))
        #expect(try write(#"{"id": "a", "volume": 2}"#))
        // A value someone else stored (not JSON) counts as version 0.
        try RedisConnection(address: redis.address).command("SET", "x", "not json")
        #expect(try write(#"{"id": "x", "volume": 1, "version": 1}"#))
        #expect(try redis.values(keys: ["1", "a", "x"]) == [
            "1": #"{"id": 1, "volume": 11, "version": 3}"#, "a": #"{"id": "a", "volume": 2}"#, "x": #"{"id": "x", "volume": 1, "version": 1}"#,
        ])
        // The script cache flushed, the connection killed: the writer loads it again, reconnects.
        try RedisConnection(address: redis.address).command("SCRIPT", "FLUSH")
        #expect(try write(#"{"id": 1, "volume": 12, "version": 4}"#))
        try RedisConnection(address: redis.address).command("CLIENT", "KILL", "TYPE", "normal")
        #expect(try write(#"{"id": 1, "volume": 13, "version": 5}"#))
        #expect(try redis.values(keys: ["1"]) == ["1": #"{"id": 1, "volume": 13, "version": 5}"#])
    }
}
