#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the trigger sends, `{"id": 7, "volume": 12, "version": 3}`, reduced to what the write
/// needs: the Redis key (the id as text, as the classic PHP worker's `$redis->set($work->id, …)`
/// makes it) and the version. A payload without `version` (the classic trigger's) is version 0.
public struct SyncPayload: Equatable, Sendable {
    public var key: String
    public var version: Int64

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        /// Not a JSON object, or `id`/`version` of the wrong type.
        case notSyncJSON(String)
        /// No `id` (the classic worker skips these too).
        case missingID

        public var description: String {
            switch self {
            case .notSyncJSON(let why): return "payload is not {\"id\": …, \"version\": …}: \(why)"
            case .missingID: return "payload has no id"
            }
        }
    }

    public init(key: String, version: Int64) {
        self.key = key
        self.version = version
    }

    /// Reads `id` (an integer or a string) and `version` (an integer, absent: 0) from `json`.
    /// The trigger's flat object is read by a small scanner (no Foundation, no allocation but
    /// the key); anything else, and every error, is decided by JSONDecoder.
    public init(json: [UInt8]) throws(Invalid) {
        if let flat = FlatPayloadScanner.scan(json) {
            self = flat
        } else {
            self = try Self.decoded(json)
        }
    }

    /// What JSONDecoder makes of `json`: the reference, and the slow path.
    static func decoded(_ json: [UInt8]) throws(Invalid) -> SyncPayload {
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(json))
        } catch {
            throw .notSyncJSON("\(error)")
        }
        guard let id = fields.id else { throw .missingID }
        return SyncPayload(key: id.text, version: fields.version ?? 0)
    }

    private struct Fields: Decodable {
        var id: ID?
        var version: Int64?
    }

    private enum ID: Decodable {
        case integer(Int64)
        case string(String)

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int64.self) { self = .integer(n) } else { self = .string(try c.decode(String.self)) }
        }

        var text: String {
            switch self {
            case .integer(let n): return String(n)
            case .string(let s): return s
            }
        }
    }
}
