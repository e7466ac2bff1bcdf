import Foundation
import RESP

/// Debian's redis-server, no persistence, on a free port.
final class RedisServer {
    let port = Services.freePort()
    var address: RedisAddress { RedisAddress(host: "127.0.0.1", port: port) }

    init(_ services: Services) throws {
        let p = try services.start("/usr/bin/redis-server", [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", services.dir, "--daemonize", "no",
        ], log: "redis.log")
        guard Services.waitUntil(timeout: 10, { !p.isRunning || (try? RedisConnection(address: self.address).command("PING")) != nil }),
              p.isRunning else { throw Services.Failure(description: "redis-server did not start: \(services.read("redis.log"))") }
    }

    /// Every key's value (the test's bookkeeping).
    func values(keys: [String]) throws -> [String: String] {
        let c = try RedisConnection(address: address)
        var values: [String: String] = [:]
        for chunk in stride(from: 0, to: keys.count, by: 500) {
            let slice = Array(keys[chunk..<min(chunk + 500, keys.count)])
            guard case .array(let replies?) = try c.command([Array("MGET".utf8)] + slice.map { Array($0.utf8) }) else { throw Services.Failure(description: "MGET") }
            for (key, reply) in zip(slice, replies) { values[key] = reply.text }
        }
        return values
    }
}

