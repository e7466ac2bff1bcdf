import CFPMShims

/// malloc's heap, for a worker that just served a request with a large body.
package enum Heap {
    /// Returns the heap's free pages to the kernel (their resident memory is released); what
    /// is in use stays. Costs a walk of the heap: call it after a large request, not every one.
    /// The corresponding C function is `malloc_trim`.
    package static func trim() {
        _ = cfpm_malloc_trim()
    }
}
