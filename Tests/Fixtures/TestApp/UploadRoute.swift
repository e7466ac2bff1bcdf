import FPM

/// `/upload`: reads a multipart/form-data body as a stream and answers a line per part, a
/// field's `name = text`, a file's `name file SAFE-FILENAME SIZE FNV1A64-HEX`, each file part
/// going through a 64 KiB chunk into a running hash and nothing else (what an app storing a
/// large upload does, with the file write left out). Limits are raised for the 50 MB test.
func uploadRoute(_ request: Request) throws -> String {
    let parts = try request.multipart(limits: MultipartLimits(maxPartSize: 128 << 20, maxTotalSize: 256 << 20))
    var lines = ""
    var chunk = [UInt8](repeating: 0, count: 65536)
    while let part = try parts.nextPart() {
        guard part.filename != nil else {
            lines += "\(part.name) = \(try part.text())\n"
            continue
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var size = 0
        while case let n = try part.read(into: &chunk), n > 0 {
            size += n
            chunk.withUnsafeBufferPointer { bytes in
                // Indexed, not `for byte in bytes[0..<n]`: a debug build iterates a Slice ~20x slower.
                for i in 0..<n { hash = (hash ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
            }
        }
        lines += "\(part.name) file \(part.safeFilename ?? "") \(size) \(String(hash, radix: 16))\n"
    }
    return lines
}
