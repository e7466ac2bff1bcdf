/// Reads binary packets from a byte stream that arrives in any chunking: bytes go in with
/// `append` (or straight from a socket with `fill`), whole packets come out of `next`. The
/// header is checked as soon as its bytes are there (magic, type, direction, size against the
/// limit) so garbage or an oversized packet fails before its data is buffered. After an error
/// the stream has lost its framing: every later `next` throws the same error.
public struct GearmanPacketParser: Sendable {
    /// Which kind of packet this side reads: a client or worker reads responses, a server
    /// (or a test standing in for one) reads requests.
    public let expecting: GearmanMagic
    public let limits: GearmanLimits
    private var storage: [UInt8] = []
    private var start = 0
    private var end = 0
    private var failure: GearmanError?

    public init(expecting: GearmanMagic, limits: GearmanLimits = GearmanLimits()) {
        self.expecting = expecting
        self.limits = limits
    }

    /// Bytes received and not yet returned as packets.
    public var bufferedCount: Int { end - start }

    /// How many more bytes complete the packet at the head of the buffer (the header's, while
    /// it is incomplete); 0 when a whole packet is buffered. Lets a reader size its receive
    /// so a large payload arrives in few calls, without over-reading a bounded amount.
    public var bytesNeeded: Int {
        let have = end - start
        guard have >= GearmanPacket.headerSize else { return GearmanPacket.headerSize - have }
        let size = Int(readBigEndian(at: start + 8))
        return max(0, GearmanPacket.headerSize + size - have)
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        makeRoom(bytes.count)
        storage.replaceSubrange(end..<end + bytes.count, with: bytes)
        end += bytes.count
    }

    /// Lets `body` write up to `capacity` bytes straight into the buffer (a `recv`), and keeps
    /// as many as it says it wrote. Saves a copy of every payload compared with `append`.
    public mutating func fill<E: Error>(capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int) throws(E) -> Int {
        makeRoom(capacity)
        let offset = end
        let result: Result<Int, E> = storage.withUnsafeMutableBytes { raw in
            do throws(E) {
                return .success(try body(UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + capacity])))
            } catch {
                return .failure(error)
            }
        }
        let n = try result.get()
        precondition(n >= 0 && n <= capacity, "fill: body reported \(n) bytes for \(capacity) of room")
        end += n
        return n
    }

    /// `fill` for a body that cannot throw: the same, without the generic error type (a
    /// caller in another module would otherwise run it unspecialized, once per receive).
    public mutating func fill(capacity: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        makeRoom(capacity)
        let offset = end
        let n = storage.withUnsafeMutableBytes { raw in
            body(UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + capacity]))
        }
        precondition(n >= 0 && n <= capacity, "fill: body reported \(n) bytes for \(capacity) of room")
        end += n
        return n
    }

    /// The next whole packet, nil when more bytes are needed.
    public mutating func next() throws(GearmanError) -> GearmanPacket? {
        if let failure { throw failure }
        do throws(GearmanError) {
            return try parse()
        } catch {
            failure = error
            throw error
        }
    }

    /// At end of stream: throws `.truncated` when part of a packet is left over.
    public func finish() throws(GearmanError) {
        if let failure { throw failure }
        if end > start { throw .truncated(buffered: end - start) }
    }

    // MARK: Parsing

    private mutating func parse() throws(GearmanError) -> GearmanPacket? {
        let have = end - start
        guard have > 0 else { return nil }
        // The magic, as soon as its bytes are in: text or garbage fails on the first chunk.
        // The error carries the bytes up to the first one that fits neither magic, so it is
        // the same however the stream was split.
        let magicLength = min(have, 4)
        let want = expecting.bytes
        let other = (expecting == .request ? GearmanMagic.response : .request).bytes
        let fitsWant = prefixLength(matching: want, upTo: magicLength)
        if fitsWant < magicLength {
            let fitsOther = prefixLength(matching: other, upTo: magicLength)
            guard fitsOther == magicLength else {
                throw .badMagic(bytes: Array(storage[start...start + max(fitsWant, fitsOther)]))
            }
            if magicLength == 4 { throw .unexpectedMagic(request: expecting == .response) }
        }
        guard have >= 8 else { return nil }
        let rawType = readBigEndian(at: start + 4)
        guard let type = GearmanPacketType(rawValue: rawType) else { throw .unknownType(rawType) }
        guard expecting == .request ? type.isRequest : type.isResponse else { throw .wrongDirection(type) }
        guard have >= GearmanPacket.headerSize else { return nil }
        let size = readBigEndian(at: start + 8)
        guard Int(size) <= limits.maxPacketSize else { throw .packetTooLarge(size: size, limit: limits.maxPacketSize) }
        let total = GearmanPacket.headerSize + Int(size)
        guard have >= total else { return nil }
        let arguments = try split(type, from: start + GearmanPacket.headerSize, to: start + total)
        start += total
        if start == end { start = 0; end = 0 }
        return GearmanPacket(expecting, type, arguments)
    }

    /// The data between `from` and `to` cut at the first `argumentCount - 1` NULs.
    private func split(_ type: GearmanPacketType, from: Int, to: Int) throws(GearmanError) -> [[UInt8]] {
        let count = type.argumentCount
        guard count > 0 else {
            if to > from { throw .unexpectedData(type, size: to - from) }
            return []
        }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(count)
        var cursor = from
        while arguments.count < count - 1 {
            guard let nul = storage[cursor..<to].firstIndex(of: 0) else {
                throw .missingArguments(type, expected: count, found: arguments.count + 1)
            }
            arguments.append(Array(storage[cursor..<nul]))
            cursor = nul + 1
        }
        arguments.append(Array(storage[cursor..<to]))
        return arguments
    }

    /// How many of the first `count` buffered bytes agree with `magic`.
    private func prefixLength(matching magic: [UInt8], upTo count: Int) -> Int {
        var i = 0
        while i < count && storage[start + i] == magic[i] { i += 1 }
        return i
    }

    private func readBigEndian(at i: Int) -> UInt32 {
        UInt32(storage[i]) << 24 | UInt32(storage[i + 1]) << 16 | UInt32(storage[i + 2]) << 8 | UInt32(storage[i + 3])
    }

    /// Makes `count` bytes of room after `end`: moves the unread bytes to the front when that
    /// frees enough, grows the storage otherwise.
    private mutating func makeRoom(_ count: Int) {
        if storage.count - end >= count { return }
        if start > 0 {
            let unread = end - start
            storage.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                base.copyMemory(from: base + start, byteCount: unread)
            }
            start = 0
            end = unread
            if storage.count - end >= count { return }
        }
        storage.append(contentsOf: repeatElement(0, count: end + count - storage.count))
    }
}
