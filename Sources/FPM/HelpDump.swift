import ArgumentParser
import FoundationEssentials

/// What `--experimental-dump-help` prints, which swift-argument-parser's generate-manual plugin
/// turns into fpm(1). The parser adds a `help` subcommand to every command's dump, even one
/// with no subcommands, so fpm(1) would show `fpm subcommand` and a `fpm help` that fails with
/// exit 64; the dump of a command without subcommands is printed without it.
enum HelpDump {
    static func rendered(_ command: any ParsableCommand.Type) -> String {
        let dump = command._dumpHelp()
        guard command.configuration.subcommands.isEmpty,
              case .object(var root)? = try? JSONDecoder().decode(JSONValue.self, from: Data(dump.utf8)),
              case .object(var info)? = root["command"] else { return dump }
        info["subcommands"] = nil
        root["command"] = .object(info)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(JSONValue.object(root)) else { return dump }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Any JSON value, so one key can be dropped from a document whose schema is the parser's.
enum JSONValue: Codable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): if n == n.rounded(), abs(n) < 1e15 { try c.encode(Int(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
