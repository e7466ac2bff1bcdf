import FastCGI

/// Why a request's body cannot be read as whole: the handler's read throws it, so a body that
/// is short, cut or mislabelled is never passed on as complete.
///
/// The worker answers the first two 400 (or, when part of the answer already left, ends the
/// request as failed); after the last two no answer is sent at all (nginx gave up on it, or
/// the connection is gone).
package enum RequestBodyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// CONTENT_LENGTH is not a byte count (`abc`, `-5`, more than 63 bits).
    case invalidLength
    /// The STDIN stream ended before CONTENT_LENGTH bytes arrived.
    case incomplete(expected: Int, received: Int)
    /// The web server sent ABORT_REQUEST before the body was read.
    case aborted(received: Int)
    /// The connection ended inside the body.
    case disconnected(received: Int)

    /// Whether the request still gets an answer (400) rather than none.
    package var isAnswered: Bool {
        switch self {
        case .invalidLength, .incomplete: return true
        case .aborted, .disconnected: return false
        }
    }

    package var description: String {
        switch self {
        case .invalidLength: return "CONTENT_LENGTH is not a byte count"
        case .incomplete(let expected, let received):
            return "the body ended after \(received) of its \(expected) bytes (CONTENT_LENGTH)"
        case .aborted(let received): return "the web server aborted the request after \(received) body bytes"
        case .disconnected(let received): return "the connection closed after \(received) body bytes"
        }
    }
}

/// The body of the request in progress counted against its CONTENT_LENGTH: what arrived on
/// STDIN, what the handler was given, and whether it may have more. A plain value with no I/O
/// (the session feeds it), so each body case is decided in one place and tested alone.
struct RequestBody {
    enum Stream: Equatable { case open, ended, aborted, disconnected }

    private(set) var length = ContentLength.unspecified
    private(set) var stream = Stream.open
    /// STDIN bytes that arrived.
    private(set) var received = 0
    /// Bytes handed to the handler.
    private(set) var delivered = 0

    init(length: ContentLength = .unspecified) { self.length = length }

    /// A STDIN chunk of `count` bytes arrived.
    mutating func arrived(_ count: Int) { received += count }
    /// The empty STDIN record arrived.
    mutating func ended() { stream = .ended }
    /// ABORT_REQUEST arrived.
    mutating func aborted() { stream = .aborted }
    /// The connection ended.
    mutating func disconnected() { if stream == .open { stream = .disconnected } }
    /// The handler was given `count` bytes.
    mutating func delivered(_ count: Int) { delivered += count }

    /// Bytes the handler may still be given: nil when no length bounds it.
    var remaining: Int? {
        guard case .exactly(let n) = length else { return nil }
        return n - delivered
    }

    /// Whether the handler has had the whole body (its reads return 0 from now on).
    var isComplete: Bool {
        switch length {
        case .exactly(let n): return delivered >= n
        case .unspecified: return stream == .ended && delivered == received
        case .invalid: return false
        }
    }

    /// How many of `available` buffered bytes the handler may take into `room` bytes.
    func take(available: Int, room: Int) -> Int {
        min(available, room, remaining ?? Int.max)
    }

    /// Why the body cannot be read (further), once that is known: nil while it is fine so far.
    var failure: RequestBodyError? {
        if case .invalid = length { return .invalidLength }
        switch stream {
        case .open: return nil
        case .aborted: return .aborted(received: received)
        case .disconnected: return .disconnected(received: received)
        case .ended:
            if case .exactly(let n) = length, received < n { return .incomplete(expected: n, received: received) }
            return nil
        }
    }

    /// Whether no answer is to be sent (the request was aborted or its connection is gone).
    var dropsAnswer: Bool { stream == .aborted || stream == .disconnected }

    /// STDIN bytes beyond CONTENT_LENGTH (discarded, never given to the handler).
    var excess: Int {
        guard case .exactly(let n) = length, received > n else { return 0 }
        return received - n
    }
}
