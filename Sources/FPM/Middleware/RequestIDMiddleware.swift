import HTTPTypes

/// Gives each request an id, as ``Request/id`` for the handler and as `X-Request-Id` on the
/// response, so a line in the app's log, the client's report and the front end's log can be
/// matched.
///
/// The id is, in this order:
/// 1. the request's `X-Request-Id`, when it is 1 to 128 visible ASCII characters (a front end
///    or a caller that already named the request);
/// 2. the trace id of a valid W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`; not all
///    zeros, version not `ff`): 32 lowercase hex digits, the id tracing tools show;
/// 3. otherwise a new one, 32 lowercase hex digits (the shape of a trace id), from a generator
///    seeded from the system's randomness in each worker at its first request: unique, not
///    secret.
public final class RequestIDMiddleware: Middleware {
    /// The response header the id is sent in.
    public let header: HTTPField.Name
    private var generator: SplitMix64? = nil

    /// A middleware that sets the id on the request and on the response's `header`.
    public init(header: HTTPField.Name = HTTPField.Name("X-Request-Id")!) { self.header = header }

    /// Sets ``Request/id`` and the response header, then runs the rest of the chain.
    public func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
        let id = Self.id(given: request.header(header), traceparent: request.header("traceparent")) ?? newID()
        var identified = request
        identified.id = id
        try response.setHeader(header, id)
        try next(identified, response)
    }

    /// The id a request brings: its `X-Request-Id` when usable, else its `traceparent`'s trace
    /// id; nil when neither is.
    public static func id(given: String?, traceparent: String?) -> String? {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        if let traceparent { return traceID(traceparent) }
        return nil
    }

    /// The trace id of a W3C `traceparent` value, lowercased; nil when the value is not valid.
    public static func traceID(_ traceparent: String) -> String? {
        let bytes = Array(traceparent.utf8)
        // version "-" trace-id "-" parent-id "-" flags; a later version may add fields after a "-".
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
              bytes[52] == UInt8(ascii: "-") else { return nil }
        let version = bytes[0..<2], trace = bytes[3..<35], parent = bytes[36..<52], flags = bytes[53..<55]
        guard [version, trace, parent, flags].allSatisfy({ $0.allSatisfy(isHex) }) else { return nil }
        let versionText = String(decoding: version, as: UTF8.self).lowercased()
        guard versionText != "ff", versionText != "00" || bytes.count == 55,
              bytes.count == 55 || bytes[55] == UInt8(ascii: "-") else { return nil }
        guard trace.contains(where: { $0 != UInt8(ascii: "0") }),
              parent.contains(where: { $0 != UInt8(ascii: "0") }) else { return nil }
        return String(decoding: trace, as: UTF8.self).lowercased()
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    /// 32 hex digits from this worker's generator (seeded here, after fork, so workers differ).
    private func newID() -> String {
        var random = generator ?? SplitMix64(seed: UInt64.random(in: .min ... .max))
        let high = random.next(), low = random.next()
        generator = random
        return Self.hex(high) + Self.hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// A small fast generator: request ids need uniqueness, not secrecy, and a system call per
/// request for them would be waste.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
