import FPMSystem
import Glibc
import Testing

/// Descriptor numbers well above what the test process has open (and apart from the span
/// SystemLayerTests uses), so a child closing them touches nothing another test owns.
private let highBase: Int32 = 960

private func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

/// Forks a child that runs `body` (system calls only: the test runner has threads) and exits
/// with what it returns; how the child ended.
private func inChild(_ body: () -> Int32) throws -> FPMSystem.ExitStatus? {
    let pid = try Processes.fork()
    if pid == 0 { Processes.exitNow(body()) }
    return Spawn.reap(pid)
}

@Suite("Owned descriptors", .serialized)
struct OwnedDescriptorTests {
    @Test func closingConsumesTheOwnerAndClosesOnce() throws {
        let pipe = try FileIO.pipe()
        defer { FileIO.close(pipe.write) }
        let owner = OwnedDescriptor(owning: pipe.read)
        #expect(owner.rawValue == pipe.read && isOpen(pipe.read))
        owner.close()
        // `owner.close()` again does not compile: the owner is gone.
        #expect(!isOpen(pipe.read))
    }

    @Test func releasingHandsTheDescriptorOnOpen() throws {
        let pipe = try FileIO.pipe()
        let owner = OwnedDescriptor(owning: pipe.read)
        let fd = owner.release()
        #expect(fd == pipe.read && isOpen(fd))
        FileIO.close(fd)
        FileIO.close(pipe.write)
    }

    #if DEBUG
    @Test func anOwnerDroppedUnclosedIsCountedAndStillClosed() throws {
        let pipe = try FileIO.pipe()
        defer { FileIO.close(pipe.write) }
        let before = OwnedDescriptor.leaked
        do { _ = OwnedDescriptor(owning: pipe.read) }
        #expect(OwnedDescriptor.leaked >= before + 1)
        #expect(!isOpen(pipe.read))
        let closedProperly = OwnedDescriptor.leaked
        let other = try FileIO.pipe()
        OwnedDescriptor(owning: other.read).close()
        OwnedDescriptor(owning: other.write).close()
        // Closing is not a leak (other tests leak nothing either: the count stays).
        #expect(OwnedDescriptor.leaked == closedProperly)
    }
    #endif

    @Test func aCallFailingWithEBADFOnAnOwnedDescriptorTraps() throws {
        let pipe = try FileIO.pipe()
        FileIO.close(pipe.read)
        FileIO.close(pipe.write)
        let stale = pipe.read
        // Closed behind its owner's back: the owner's close traps (in a child: it kills it).
        let status = try inChild {
            if isOpen(stale) { return 2 }  // the number was reused meanwhile: nothing to prove
            OwnedDescriptor(owning: stale).close()
            return 0
        }
        if status != .exited(code: 2) {
            guard case .signaled = status else {
                Issue.record("the child was not stopped by a trap: \(String(describing: status))")
                return
            }
        }
        // Other errors are thrown as they are; EBADF from a call traps too.
        let other = try inChild {
            let owner = OwnedDescriptor(owning: highBase + 30)  // not open
            _ = try? owner.call { fd throws(SystemError) in try FileIO.setNonBlocking(fd, true) }
            return 0
        }
        guard case .signaled = other else {
            Issue.record("EBADF from a call did not trap: \(String(describing: other))")
            return
        }
    }

    @Test func aForkedChildClosesTheRegisteredDescriptorsItDoesNotKeep() throws {
        DescriptorRegistry.activate()
        let pipe = try FileIO.pipe()
        defer { FileIO.close(pipe.read); FileIO.close(pipe.write) }
        let master = highBase, kept = highBase + 1, unregistered = highBase + 2, reused = highBase + 3
        for fd in [master, kept, unregistered, reused] { try FileIO.dup2(pipe.read, fd) }
        defer { FileIO.close(unregistered) }
        DescriptorRegistry.register(master)
        DescriptorRegistry.register(kept)
        // Registered, then closed by its owner: it leaves the registry, and the number, reused
        // by a descriptor the master never registered, is not closed in the child.
        DescriptorRegistry.register(reused)
        OwnedDescriptor(owning: reused).close()
        #expect(!DescriptorRegistry.contains(reused))
        try FileIO.dup2(pipe.read, reused)
        defer { FileIO.close(reused) }
        #expect(DescriptorRegistry.contains(master) && DescriptorRegistry.contains(kept))
        let status = try inChild {
            DescriptorRegistry.keep(kept)
            DescriptorRegistry.closeRegistered()
            var code: Int32 = 0
            if isOpen(master) { code |= 1 }
            if !isOpen(kept) { code |= 2 }
            if !isOpen(unregistered) { code |= 4 }
            if !isOpen(reused) { code |= 8 }
            if DescriptorRegistry.isActive || DescriptorRegistry.contains(master) { code |= 16 }
            return code
        }
        #expect(status == .exited(code: 0))
        // The parent's registry and descriptors are untouched.
        #expect(DescriptorRegistry.contains(master) && DescriptorRegistry.contains(kept))
        #expect(isOpen(master) && isOpen(kept))
        FileIO.close(master)
        FileIO.close(kept)
        #expect(!DescriptorRegistry.contains(master) && !DescriptorRegistry.contains(kept))
    }
}
