import FPMSystem
import FastCGI

/// `handler = info`: a text/plain page of everything the web server sent — the tool for
/// debugging `fastcgi_param` setups.
package struct InfoHandler: RequestHandler {
    package init() {}

    package func handle(_ request: ServerRequest, _ response: ServerResponse) throws {
        var bodyLength = 0
        var checksum: UInt32 = 0
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try request.read(into: $0) }
            if n == 0 { break }
            bodyLength += n
            for b in chunk[0..<n] { checksum = (checksum &* 31) &+ UInt32(b) }
        }
        let pairs = request.params.map { ($0.name, $0.value) }.sorted { $0.0 < $1.0 }
        var text = "swift-fpm info\n\nparams (\(pairs.count)):\n"
        for (name, value) in pairs {
            text += name
            text += "="
            text += value
            text += "\n"
        }
        text += "\nbody length: \(bodyLength)\n"
        text += "body checksum: \(checksum)\n"
        try response.setHeader("Content-Type", "text/plain; charset=utf-8")
        try response.write(text)
    }
}
