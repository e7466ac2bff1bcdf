/// What a request's CONTENT_LENGTH param says about its body, decided once from the param's
/// bytes: the body is exactly that many bytes of STDIN.
///
/// An absent or empty CONTENT_LENGTH (nginx sends `CONTENT_LENGTH=""` with a GET) gives no
/// length: the body is then what the STDIN stream carries up to its empty record, which is the
/// only delimiter left (nginx always sends a length with a body; other front ends may stream one
/// without). php-fpm reads nothing in that case (PHP reads `CONTENT_LENGTH` bytes, 0 when
/// absent); here the stream's end still delimits the body, and an abort or a closed connection
/// before it still fails the read, so a body without a length is never cut short silently.
///
/// Anything but plain ASCII digits (a sign, spaces, `abc`) or a number that does not fit in
/// 63 bits (`10^20`) is invalid: the request is refused (400) before its handler runs.
public enum ContentLength: Sendable, Equatable {
    /// No length given: the body ends with the STDIN stream.
    case unspecified
    /// Exactly this many bytes.
    case exactly(Int)
    /// A value that is not a byte count.
    case invalid

    /// Parses the param's raw value; nil (absent) and empty are `unspecified`.
    public init(_ value: UnsafeRawBufferPointer?) {
        guard let value, !value.isEmpty else { self = .unspecified; return }
        var n = 0
        for b in value {
            guard b >= 0x30 && b <= 0x39 else { self = .invalid; return }
            let (times10, o1) = n.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(b - 0x30))
            if o1 || o2 { self = .invalid; return }
            n = sum
        }
        self = .exactly(n)
    }

    /// Parses a param value given as text (tests, callers holding a String).
    public init(_ text: String?) {
        guard var text else { self.init(nil as UnsafeRawBufferPointer?); return }
        self = text.withUTF8 { ContentLength(UnsafeRawBufferPointer($0)) }
    }
}

extension FastCGIParams {
    /// The request's CONTENT_LENGTH, read in place.
    public var contentLength: ContentLength { withValue(.contentLength) { ContentLength($0) } }
}
