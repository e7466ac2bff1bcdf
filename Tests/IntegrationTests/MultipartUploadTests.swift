import Foundation
import Testing

/// multipart/form-data through real nginx to the test app's `/upload`, which streams each file
/// part into a hash: a 50 MB file arrives whole and the worker's memory does not grow with it.
@Suite(.serialized) struct MultipartUploadTests {
    static let boundary = "----fpmIntegrationBoundary0123456789"

    /// A multipart body: the fields, then each file, as a browser sends them.
    static func body(fields: [(String, String)], files: [(name: String, filename: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for file in files {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            out += file.bytes
            out += Array("\r\n".utf8)
        }
        return out + Array("--\(boundary)--\r\n".utf8)
    }

    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBufferPointer { b in for i in 0..<b.count { hash = (hash ^ UInt64(b[i])) &* 0x100_0000_01b3 } }
        return String(hash, radix: 16)
    }

    /// A /proc/PID/status figure in KiB (VmRSS, VmHWM).
    static func memoryKiB(_ pid: Int32, _ field: String) -> Int {
        let status = TestSupport.read("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    static func post(_ nginx: NginxServer, _ body: [UInt8]) throws -> HTTPResponse {
        try HTTPClient.request(port: nginx.port, method: "POST", path: "/upload", body: body,
                               headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], timeout: 120)
    }

    @Test func a50MegabyteUploadIsStreamedWithBoundedWorkerMemory() throws {
        let server = try FPMServer(pool: "pm.max_children = 1\nrequest_read_timeout = 60s\n")
        // Streamed by nginx too (no temp file first), with room for the body.
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)",
                                    extraLocation: "client_max_body_size 128m;\nfastcgi_request_buffering off;")
        // A small upload first: the worker's one-time costs are paid before the baseline.
        let warm = try Self.post(nginx, Self.body(fields: [("a", "1")], files: [("f", "w.bin", [1, 2, 3])]))
        #expect(warm.status == 200 && warm.text == "a = 1\nf file w.bin 3 \(Self.fnv1a([1, 2, 3]))\n", "\(warm.text)")
        let pid = try #require(warm.header("X-Worker-PID").flatMap { Int32($0) })
        let rssBefore = Self.memoryKiB(pid, "VmRSS")
        let peakBefore = Self.memoryKiB(pid, "VmHWM")

        // 50 MB of varied bytes, with near-boundaries in it.
        var big = [UInt8](repeating: 0, count: 50_000_000)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        big.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                words[i] = x
            }
        }
        let near = Array("\r\n--\(Self.boundary.dropLast())".utf8)
        for at in stride(from: 1000, to: big.count - near.count, by: 3_000_017) { big.replaceSubrange(at..<at + near.count, with: near) }
        let small = Array("second file\r\n--".utf8)
        let body = Self.body(fields: [("title", "big one")],
                             files: [("upload", "../../big.bin", big), ("other", "C:\\tmp\\small.txt", small)])
        let r = try Self.post(nginx, body)
        #expect(r.status == 200)
        #expect(r.text == """
        title = big one
        upload file big.bin 50000000 \(Self.fnv1a(big))
        other file small.txt \(small.count) \(Self.fnv1a(small))\n
        """)
        #expect(r.header("X-Worker-PID") == String(pid), "the same worker served both")
        let rssAfter = Self.memoryKiB(pid, "VmRSS")
        let peakAfter = Self.memoryKiB(pid, "VmHWM")
        // The peak is the proof: holding the body would have raised it by ~50 MiB.
        #expect(peakAfter - peakBefore < 16 << 10, "VmHWM \(peakBefore) KiB before, \(peakAfter) KiB after")
        #expect(rssAfter - rssBefore < 16 << 10, "VmRSS \(rssBefore) KiB before, \(rssAfter) KiB after")
    }

    @Test func aBodyCutBeforeItsFinalBoundaryIsA400ThroughNginx() throws {
        let server = try FPMServer(pool: "pm.max_children = 1\n")
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)")
        let whole = Self.body(fields: [("a", "1")], files: [])
        let r = try Self.post(nginx, Array(whole.dropLast(10)))
        #expect(r.status == 400)
        #expect(r.text == "multipart body ended before its final boundary\n")
        let wrongType = try nginx.get("/upload", method: "POST", body: [1], headers: [("Content-Type", "text/plain")])
        #expect(wrongType.status == 415)
    }
}
