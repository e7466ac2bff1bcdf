/// Reads a `multipart/form-data` body one part at a time, streaming: only a fixed buffer
/// (64 KiB, more when ``MultipartLimits/maxHeaderSize`` needs it) is ever held, whatever the
/// body's size, so a 50 MB file part goes to its destination chunk by chunk.
///
/// ```swift
/// let parts = try request.multipart()
/// while let part = try parts.nextPart() {
///     if part.filename != nil {
///         var chunk = [UInt8](repeating: 0, count: 65536)
///         while case let n = try part.read(into: &chunk), n > 0 { try file.write(chunk[0..<n]) }
///     } else {
///         fields[part.name] = try part.text()
///     }
/// }
/// ```
///
/// A part is read before the next is asked for: ``nextPart()`` skips what is left of the
/// current one. A body that breaks the format is refused with an ``HTTPError`` 400 (no final
/// boundary, a boundary not followed by a line end, a header line without a colon), one past a
/// limit with a 413; the router answers either if the app lets it through.
///
/// Why a parser of our own rather than vapor/multipart-kit (4.7.1): that one needs swift-nio and
/// swift-collections in every app's build, pushes bytes into callbacks instead of letting the
/// handler pull them from its blocking body reader, has no limits on header sections or parts,
/// cannot tell a body cut short of its final boundary, and splits Content-Disposition on every
/// `;` (so `filename="a;b.txt"` comes out wrong). The format is small; this reader is one file.
public final class MultipartReader {
    /// The boundary from the request's `Content-Type`.
    public let boundary: String
    /// The limits this reader enforces.
    public let limits: MultipartLimits
    let source: (UnsafeMutableRawBufferPointer) throws -> Int
    /// `CRLF--boundary`: what ends a part (and, with the CRLF this reader puts first, the
    /// preamble, so a body starting with `--boundary` needs no special case).
    let delimiter: [UInt8]
    /// Boyer-Moore-Horspool shifts for `delimiter`, by the byte under its last position.
    let shifts: [Int]
    var buffer: [UInt8]
    /// `buffer[start..<end]` is what has been read from the source and not consumed yet.
    var start = 0
    var end = 0
    /// No delimiter starts in `buffer[start..<clear]` (what a search already ruled out).
    var clear = 0
    /// Where the delimiter found by the last search starts, if it did find one.
    var match: Int?
    var sourceEnded = false
    /// Bytes taken from the source (the request body) so far.
    public private(set) var bytesRead = 0
    /// Parts begun so far.
    public private(set) var partCount = 0
    /// Bytes of the current part handed out so far.
    var partBytes = 0
    var state = State.inPart

    enum State { case inPart, afterDelimiter, finished }

    /// A reader over any source of a multipart body with this `boundary`: `read` fills the
    /// buffer it is given, as ``Request/read(into:)`` does, and returns 0 at the end. For a
    /// request, ``Request/multipart(limits:)`` makes one.
    public init(boundary: String, limits: MultipartLimits = MultipartLimits(),
                read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.boundary = boundary
        self.limits = limits
        self.source = read
        delimiter = Array("\r\n--\(boundary)".utf8)
        var shifts = [Int](repeating: delimiter.count, count: 256)
        for i in 0..<(delimiter.count - 1) { shifts[Int(delimiter[i])] = delimiter.count - 1 - i }
        self.shifts = shifts
        buffer = [UInt8](repeating: 0, count: max(65536, limits.maxHeaderSize + 2 * delimiter.count + 64))
        // The preamble is read as a part nobody asked for; the CRLF lets the first boundary
        // line match the delimiter even at the very start of the body.
        buffer[0] = 13
        buffer[1] = 10
        end = 2
    }

    /// The next part, its header section read; nil after the final boundary. What is left of
    /// the previous part is skipped (its bytes are not returned any more).
    public func nextPart() throws -> MultipartPart? {
        // After an error the body's position is unknown: nothing more is read from it.
        do { return try readNextPart() } catch { state = .finished; throw error }
    }

    func readNextPart() throws -> MultipartPart? {
        if state == .inPart {
            while try advance(into: nil) > 0 {}
        }
        guard state == .afterDelimiter else { return nil }
        // `--` after the boundary: the final one. The epilogue is not read.
        try ensure(2)
        if buffer[start] == UInt8(ascii: "-") && buffer[start + 1] == UInt8(ascii: "-") {
            state = .finished
            return nil
        }
        // The rest of the boundary line: optional spaces or tabs (RFC 2046's padding), CRLF.
        let lineEnd = try find(Self.crlf)
        guard buffer[start..<lineEnd].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
            throw HTTPError(.badRequest, "multipart boundary not followed by a line end")
        }
        start = lineEnd
        guard partCount < limits.maxParts else {
            throw HTTPError(.contentTooLarge, "multipart body with more than \(limits.maxParts) parts")
        }
        // The header section ends with an empty line; the boundary line's CRLF is kept in front
        // of it so that an empty section is CRLF CRLF too.
        let headEnd = try find(Self.crlfcrlf)
        let head = try MultipartHead.parse(buffer[(start + 2)..<max(start + 2, headEnd)])
        start = headEnd + 4
        clear = start
        match = nil
        partCount += 1
        partBytes = 0
        state = .inPart
        return MultipartPart(reader: self, number: partCount, head: head)
    }

    /// Copies the current part's next bytes into `out` (or drops them when `out` is nil) and
    /// returns how many; 0 at the part's end, which consumes its delimiter.
    func advance(into out: UnsafeMutableRawBufferPointer?) throws -> Int {
        do { return try readPartBytes(into: out) } catch { state = .finished; throw error }
    }

    func readPartBytes(into out: UnsafeMutableRawBufferPointer?) throws -> Int {
        guard state == .inPart else { return 0 }
        while true {
            if match == nil { search() }
            let available = (match ?? clear) - start
            if available > 0 {
                let n = min(available, out?.count ?? available)
                if let out {
                    guard partBytes + n <= limits.maxPartSize else {
                        throw HTTPError(.contentTooLarge, "multipart part larger than \(limits.maxPartSize) bytes")
                    }
                    buffer.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: n) }
                }
                partBytes += n
                start += n
                return n
            }
            if match != nil {
                start += delimiter.count
                match = nil
                clear = start
                state = .afterDelimiter
                return 0
            }
            try fill()
        }
    }

    /// Looks for the delimiter from `clear` on; sets `match`, or moves `clear` past every
    /// position ruled out.
    func search() {
        let m = delimiter.count
        var i = max(clear, start)
        buffer.withUnsafeBufferPointer { b in
            delimiter.withUnsafeBufferPointer { d in
                let last = d[m - 1]
                while i + m <= end {
                    let byte = b[i + m - 1]
                    if byte == last {
                        var j = 0
                        while j < m - 1 && b[i + j] == d[j] { j += 1 }
                        if j == m - 1 {
                            match = i
                            return
                        }
                    }
                    i += shifts[Int(byte)]
                }
            }
        }
        if match == nil { clear = i }
    }

    static let crlf: [UInt8] = [13, 10]
    static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    /// Where `pattern` next starts at or after `start`, reading more as needed; the header
    /// limit bounds how far it looks.
    func find(_ pattern: [UInt8]) throws -> Int {
        var from = start
        while true {
            if end - from >= pattern.count {
                let found = buffer.withUnsafeBufferPointer { b -> Int? in
                    var i = from
                    while i + pattern.count <= end {
                        if b[i] == pattern[0] && b[i + 1] == pattern[1]
                            && (pattern.count == 2 || (b[i + 2] == pattern[2] && b[i + 3] == pattern[3])) { return i }
                        i += 1
                    }
                    return nil
                }
                if let found { return found }
                from = end - pattern.count + 1
            }
            guard end - start <= limits.maxHeaderSize + 4 else {
                throw HTTPError(.contentTooLarge, "multipart part header section larger than \(limits.maxHeaderSize) bytes")
            }
            let before = start
            try fill()
            from -= before - start
        }
    }

    /// Reads until `count` bytes are buffered past `start`.
    func ensure(_ count: Int) throws {
        while end - start < count { try fill() }
    }

    /// Moves the unread bytes to the front and reads more after them. A body that ends here
    /// ended before its final boundary.
    func fill() throws {
        if start > 0 {
            let shift = start
            let count = end - start
            buffer.withUnsafeMutableBytes { p in
                if count > 0 { p.baseAddress!.copyMemory(from: p.baseAddress! + shift, byteCount: count) }
            }
            start = 0
            end = count
            clear = max(0, clear - shift)
            if let m = match { match = m - shift }
        }
        guard !sourceEnded else { throw HTTPError(.badRequest, "multipart body ended before its final boundary") }
        // Cannot happen: every caller fills with less than the buffer's headroom unread.
        guard end < buffer.count else { throw MultipartReaderError.bufferFull }
        let n = try buffer.withUnsafeMutableBytes { p in
            try source(UnsafeMutableRawBufferPointer(rebasing: p[end...]))
        }
        if n == 0 {
            sourceEnded = true
            throw HTTPError(.badRequest, "multipart body ended before its final boundary")
        }
        end += n
        bytesRead += n
        guard bytesRead <= limits.maxTotalSize else {
            throw HTTPError(.contentTooLarge, "multipart body larger than \(limits.maxTotalSize) bytes")
        }
    }
}

/// A fault of this reader (a 500), never of the client's body.
enum MultipartReaderError: Error, CustomStringConvertible {
    case bufferFull
    case partNoLongerCurrent(Int)

    var description: String {
        switch self {
        case .bufferFull: return "multipart reader: buffer full"
        case .partNoLongerCurrent(let n): return "multipart part \(n) read after the next part was asked for"
        }
    }
}

/// Sizes a ``MultipartReader`` refuses past, each with an ``HTTPError`` 413.
public struct MultipartLimits: Sendable {
    /// Bytes of any one part's body (a part skipped unread does not count): 16 MiB by default.
    public var maxPartSize: Int
    /// Bytes of the whole body: 32 MiB by default. A request whose `CONTENT_LENGTH` says more
    /// is refused before any byte is read.
    public var maxTotalSize: Int
    /// Parts in the body: 128 by default.
    public var maxParts: Int
    /// Bytes of one part's header section: 8 KiB by default.
    public var maxHeaderSize: Int

    /// Limits; each defaults to the value its property names.
    public init(maxPartSize: Int = 16 << 20, maxTotalSize: Int = 32 << 20, maxParts: Int = 128,
                maxHeaderSize: Int = 8 << 10) {
        self.maxPartSize = maxPartSize
        self.maxTotalSize = maxTotalSize
        self.maxParts = maxParts
        self.maxHeaderSize = maxHeaderSize
    }
}
