/// One blocking connection to Redis: a command out, its reply back. Not thread-safe (a worker
/// process serves one job at a time). After any error but `.server`/`.unexpectedReply` the
/// connection is closed and every later command throws `.closed`: make a new one.
public final class RedisConnection {
    public let address: RedisAddress
    private var socket: TCPSocket
    private var parser: RESPParser
    private var outbox: [UInt8] = []
    private var inbox = [UInt8](repeating: 0, count: 16 * 1024)

    public init(address: RedisAddress, timeout: Double = 5, limits: RESPParser.Limits = RESPParser.Limits()) throws(RESPError) {
        self.address = address
        socket = try TCPSocket(host: address.host, port: address.port, timeout: timeout)
        parser = RESPParser(limits: limits)
    }

    deinit { socket.close() }

    public var isOpen: Bool { socket.fd >= 0 }

    public func close() { socket.close() }

    /// Sends one command and returns its reply; an error reply throws `.server(message)`.
    @discardableResult
    public func command(_ arguments: [[UInt8]]) throws(RESPError) -> RESPValue {
        let reply = try roundTrip(arguments)
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    @discardableResult
    public func command(_ arguments: String...) throws(RESPError) -> RESPValue {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends the one command `encode` appends (with `RESPEncoder.appendArrayHeader` and
    /// `appendBulk`) to the connection's reused buffer, and returns its reply as `command`
    /// does: a hot command then costs no array per argument.
    @discardableResult
    public func command(encodedBy encode: (inout [UInt8]) -> Void) throws(RESPError) -> RESPValue {
        let reply = try roundTrip(encode)
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    private func roundTrip(_ arguments: [[UInt8]]) throws(RESPError) -> RESPValue {
        try roundTrip { RESPEncoder.encode(arguments, into: &$0) }
    }

    private func roundTrip(_ encode: (inout [UInt8]) -> Void) throws(RESPError) -> RESPValue {
        guard socket.fd >= 0 else { throw .closed }
        do {
            outbox.removeAll(keepingCapacity: true)
            encode(&outbox)
            try socket.send(outbox)
            while true {
                if let reply = try parser.next() { return reply }
                let n = try socket.receive(into: &inbox)
                parser.append(inbox[0..<n])
            }
        } catch {
            socket.close()
            throw error
        }
    }
}
