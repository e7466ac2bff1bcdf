/// Which way a packet goes: `\0REQ` to the server, `\0RES` from it.
public enum GearmanMagic: Sendable, Equatable {
    case request
    case response

    /// The four bytes on the wire.
    public var bytes: [UInt8] {
        switch self {
        case .request: [0, 0x52, 0x45, 0x51]  // \0REQ
        case .response: [0, 0x52, 0x45, 0x53]  // \0RES
        }
    }
}

/// One binary packet: magic, type and its arguments. The wire form is a 12-byte header (magic,
/// big-endian type, big-endian data size) and the arguments joined by NULs; the last argument
/// is not terminated and may hold NULs itself.
public struct GearmanPacket: Equatable, Sendable {
    /// Bytes before the data: magic, type, size.
    public static let headerSize = 12

    public var magic: GearmanMagic
    public var type: GearmanPacketType
    /// Exactly `type.argumentCount` arguments.
    public var arguments: [[UInt8]]

    /// A packet of `type` with `arguments` (as many as the type takes: a programming error
    /// otherwise). Only the last argument may hold NULs: check fields from outside with
    /// `isValidField` first.
    public init(_ magic: GearmanMagic, _ type: GearmanPacketType, _ arguments: [[UInt8]] = []) {
        precondition(arguments.count == type.argumentCount, "\(type) takes \(type.argumentCount) arguments, got \(arguments.count)")
        self.magic = magic
        self.type = type
        self.arguments = arguments
    }

    /// Whether `field` can be an argument other than the last: a NUL would end it early.
    public static func isValidField(_ field: some Sequence<UInt8>) -> Bool {
        !field.contains(0)
    }

    /// The data size the header announces.
    public var dataSize: Int {
        arguments.isEmpty ? 0 : arguments.reduce(arguments.count - 1) { $0 + $1.count }
    }

    /// Appends the wire form to `out`, with one reservation for the whole packet.
    public func encode(into out: inout [UInt8]) {
        let size = dataSize
        out.reserveCapacity(out.count + Self.headerSize + size)
        out.append(contentsOf: magic.bytes)
        Self.appendBigEndian(type.rawValue, to: &out)
        Self.appendBigEndian(UInt32(size), to: &out)
        for (i, argument) in arguments.enumerated() {
            if i > 0 { out.append(0) }
            out.append(contentsOf: argument)
        }
    }

    /// Appends the wire form of a packet whose arguments are `handle` and `data` (WORK_COMPLETE,
    /// WORK_EXCEPTION, WORK_DATA, WORK_WARNING) or `handle` alone (`data` nil: WORK_FAIL), the
    /// same bytes as `encode(into:)` without building the arguments first: a worker's report
    /// after every job costs no allocation of its own.
    public static func encode(_ magic: GearmanMagic, _ type: GearmanPacketType, handle: String, data: [UInt8]?,
                              into out: inout [UInt8]) {
        precondition(type.argumentCount == (data == nil ? 1 : 2), "\(type) takes \(type.argumentCount) arguments")
        var handle = handle
        handle.withUTF8 { h in
            let size = h.count + (data.map { $0.count + 1 } ?? 0)
            out.reserveCapacity(out.count + headerSize + size)
            out.append(contentsOf: magic.bytes)
            appendBigEndian(type.rawValue, to: &out)
            appendBigEndian(UInt32(size), to: &out)
            out.append(contentsOf: h)
            if let data {
                out.append(0)
                out.append(contentsOf: data)
            }
        }
    }

    /// The wire form.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    static func appendBigEndian(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }
}
