import CSodium

/// Zeroes a temporary copy of secret bytes with `sodium_memzero`, which the optimiser may
/// not remove (a plain loop before deallocation can be dropped as a dead store).
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
    }
}
