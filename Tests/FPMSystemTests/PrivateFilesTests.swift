import FPMSystem
import Foundation
import Glibc
import Testing

/// The master's own files: nothing planted at a name is followed or adopted.
@Suite struct PrivateFilesTests {
    static func folder() -> String {
        let path = NSTemporaryDirectory() + "private-files-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aNewFileRefusesAPlantedLinkOrFile() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestFile.write(dir + "/victim", "secret")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/victim")
        TestFile.write(dir + "/planted", "")
        for name in ["link", "planted"] {
            #expect(throws: SystemError.self) { _ = try PrivateFiles.createNew(dir + "/" + name, mode: 0o640) }
        }
        #expect(TestFile.read(dir + "/victim") == "secret")
    }

    @Test func anAtomicWriteReplacesALinkItselfNotItsTarget() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestFile.write(dir + "/victim", "secret")
        try FileManager.default.createSymbolicLink(atPath: dir + "/state", withDestinationPath: dir + "/victim")
        try PrivateFiles.writeAtomically(dir + "/state", "pid=1\n", mode: 0o640)
        #expect(TestFile.read(dir + "/victim") == "secret")
        #expect(TestFile.read(dir + "/state") == "pid=1\n")
        var st = stat()
        #expect(lstat(dir + "/state", &st) == 0 && st.st_mode & S_IFMT == S_IFREG && st.st_mode & 0o777 == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["state", "victim"], "no temporary left")
    }

    @Test func aSharedMemoryFileIsNewAndPrivate() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let memory = try SharedMemory.create(path: dir + "/board", size: 4096)
        defer { memory.unmap() }
        var st = stat()
        #expect(stat(dir + "/board", &st) == 0 && st.st_mode & 0o777 == 0o640)
    }

    @Test func aFolderMustBeThisUsersAndNotALink() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PrivateFiles.ensureDirectory(dir + "/run", mode: 0o700)
        var st = stat()
        #expect(stat(dir + "/run", &st) == 0 && st.st_mode & 0o7777 == 0o700)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/run")
        #expect(throws: PrivateFiles.UnsafeDirectory.self) { try PrivateFiles.ensureDirectory(dir + "/link", mode: 0o700) }
        try FileManager.default.createDirectory(atPath: dir + "/open", withIntermediateDirectories: false)
        chmod(dir + "/open", 0o777)
        #expect(throws: PrivateFiles.UnsafeDirectory.self) { try PrivateFiles.checkDirectory(dir + "/open") }
    }
}

enum TestFile {
    static func write(_ path: String, _ text: String) { try! text.write(toFile: path, atomically: false, encoding: .utf8) }
    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
