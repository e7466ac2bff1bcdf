import FPM
import FPMTesting
import Testing

/// `request.multipart()` through a router, called in-process with FPMTesting's multipart body
/// builder.
@Suite struct MultipartTests {
    func app(_ limits: MultipartLimits = MultipartLimits()) -> Router {
        let router = Router()
        router.post("/upload") { request, response in
            let parts = try request.multipart(limits: limits)
            var lines: [String] = []
            while let part = try parts.nextPart() {
                if let filename = part.filename {
                    var chunk = [UInt8](repeating: 0, count: 1000)
                    var size = 0
                    var sum = 0
                    while case let n = try part.read(into: &chunk), n > 0 {
                        size += n
                        sum = chunk[0..<n].reduce(sum) { $0 &+ Int($1) }
                    }
                    lines.append("\(part.name) file \(filename) -> \(part.safeFilename!) \(part.contentType ?? "-") \(size) \(sum)")
                } else {
                    lines.append("\(part.name) = \(try part.text())")
                }
            }
            try response.send(lines.joined(separator: "\n") + "\n")
        }
        return router
    }

    @Test func fieldsAndFiles() throws {
        let file = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let response = try TestClient(app()).post("/upload", multipart: MultipartBody([
            .field("title", "Hello, wörld"),
            .file("photo", filename: "../beach.jpg", contentType: "image/jpeg", file),
            .field("note", ""),
        ]))
        #expect(response.status == .ok)
        #expect(response.text == """
        title = Hello, wörld
        photo file ../beach.jpg -> beach.jpg image/jpeg 70000 \(file.reduce(0) { $0 + Int($1) })
        note = \n
        """)
    }

    @Test func notMultipartIs415AndNoBoundaryIs400() throws {
        let client = try TestClient(app())
        #expect(client.post("/upload", text: "x").status == .unsupportedMediaType)
        #expect(client.post("/upload", body: Array("x".utf8), headers: [.contentType: "multipart/form-data"]).status == .badRequest)
    }

    @Test func aTruncatedBodyIs400() throws {
        let body = MultipartBody([.field("a", "1")])
        let cut = Array(body.bytes.dropLast(8))
        let response = try TestClient(app()).post("/upload", body: cut, headers: [.contentType: body.contentType])
        #expect(response.status == .badRequest)
        #expect(response.text == "multipart body ended before its final boundary\n")
    }

    @Test func limitsAre413() throws {
        let body = MultipartBody([.field("a", "1"), .file("f", filename: "f", Array(repeating: 1, count: 5000))])
        #expect(try TestClient(app(MultipartLimits(maxPartSize: 4999))).post("/upload", multipart: body).status == .contentTooLarge)
        let total = try TestClient(app(MultipartLimits(maxTotalSize: 1000))).post("/upload", multipart: body)
        #expect(total.status == .contentTooLarge)
        #expect(total.text == "multipart body larger than 1000 bytes\n", "refused on CONTENT_LENGTH, before reading")
        #expect(try TestClient(app(MultipartLimits(maxParts: 1))).post("/upload", multipart: body).status == .contentTooLarge)
        #expect(try TestClient(app(MultipartLimits(maxParts: 2))).post("/upload", multipart: body).status == .ok)
    }
}
