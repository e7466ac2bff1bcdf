import RESP

/// Writes sync payloads into Redis with the version guard: one Lua script, run atomically by
/// Redis, stores the payload under its key only when the stored value's version is older (or
/// there is none), so two updates of a row applied out of order, or a job run again after a
/// worker died, never leave Redis older than the database.
///
/// One per worker process: it keeps one connection, loads the script once (SCRIPT LOAD) and
/// runs it by its SHA1 (EVALSHA), falling back to EVAL when Redis lost its script cache, and
/// reconnects once when the connection broke.
public final class RedisSyncWriter {
    /// ../../sync_to_redis.lua, which the PHP worker reads; a test checks they are the same.
    public static let script = """
    -- Version-guarded SET, run atomically by Redis (EVAL/EVALSHA) for the syncToRedis workers:
    -- KEYS[1] = the row's id, ARGV[1] = the payload's JSON, ARGV[2] = its version.
    -- Writes only when the stored value's version is older, or when there is none; unversioned
    -- payloads (version 0, the classic trigger's) replace only unversioned values. Returns 1 when
    -- it wrote, 0 when the stored value was newer (or as new).
    local new = tonumber(ARGV[2])
    local stored = redis.call('GET', KEYS[1])
    if stored then
        local ok, value = pcall(cjson.decode, stored)
        local old = 0
        if ok and type(value) == 'table' and tonumber(value['version']) then
            old = tonumber(value['version'])
        end
        if old > new or (old == new and new ~= 0) then
            return 0
        end
    end
    redis.call('SET', KEYS[1], ARGV[1])
    return 1

    """

    public let address: RedisAddress
    public let timeout: Double
    private var connection: RedisConnection?
    private var sha: [UInt8] = []
    private static let scriptBytes = Array(script.utf8)

    public init(address: RedisAddress, timeout: Double = 5) {
        self.address = address
        self.timeout = timeout
    }

    /// Connects and loads the script (done by the first write when not called before).
    public func connect() throws(RESPError) {
        connection?.close()
        connection = nil
        let c = try RedisConnection(address: address, timeout: timeout)
        guard let loaded = try c.command([Array("SCRIPT".utf8), Array("LOAD".utf8), Self.scriptBytes]).text else {
            throw .unexpectedReply("SCRIPT LOAD answered no SHA1")
        }
        sha = Array(loaded.utf8)
        connection = c
    }

    public func close() {
        connection?.close()
        connection = nil
    }

    /// Stores `json` (the payload as received) under `payload.key` unless Redis holds a newer
    /// version; whether it wrote.
    @discardableResult
    public func write(_ payload: SyncPayload, json: [UInt8]) throws(RESPError) -> Bool {
        do {
            return try run(payload, json)
        } catch where error.isConnectionLost {
            // Redis restarted or the connection idled out: one new connection, one more try.
            try connect()
            return try run(payload, json)
        }
    }

    /// One EVALSHA (one round trip), encoded straight into the connection's buffer; EVAL when
    /// Redis answers NOSCRIPT.
    private func run(_ payload: SyncPayload, _ json: [UInt8]) throws(RESPError) -> Bool {
        if connection == nil { try connect() }
        guard let c = connection else { throw .closed }
        let version = String(payload.version)  // a few digits: a small String, no heap
        let reply: RESPValue
        do {
            reply = try c.command(encodedBy: { (out: inout [UInt8]) in
                RESPEncoder.appendArrayHeader(count: 6, to: &out)
                RESPEncoder.appendBulk(Self.evalsha, to: &out)
                RESPEncoder.appendBulk(self.sha, to: &out)
                RESPEncoder.appendBulk(Self.oneKey, to: &out)
                RESPEncoder.appendBulk(payload.key.utf8, to: &out)
                RESPEncoder.appendBulk(json, to: &out)
                RESPEncoder.appendBulk(version.utf8, to: &out)
            })
        } catch .server(let message) where message.hasPrefix("NOSCRIPT") {
            // The script cache was flushed (SCRIPT FLUSH, a restart without our reconnect): EVAL
            // runs it and caches it again under the same SHA1.
            reply = try c.command([Array("EVAL".utf8), Self.scriptBytes, Self.oneKey, Array(payload.key.utf8), json,
                                   Array(version.utf8)])
        }
        guard case .integer(let written) = reply else { throw .unexpectedReply("\(reply)") }
        return written == 1
    }

    private static let evalsha = Array("EVALSHA".utf8)
    /// EVALSHA's numkeys: the row's key is the one key.
    private static let oneKey = Array("1".utf8)
}
