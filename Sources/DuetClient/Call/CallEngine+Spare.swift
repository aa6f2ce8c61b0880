extension CallEngine {
    /// Gathers a spare socket now and again every `GatheredSocket.refreshInterval` (the
    /// same socket asked again, which keeps its NAT mapping), for as long as the engine lives.
    func keepSpare() {
        guard spareKeeper == nil else { return }
        spareKeeper = Task { [weak self] in
            while !Task.isCancelled {
                await self?.refreshSpare()
                try? await Task.sleep(for: GatheredSocket.refreshInterval)
            }
        }
    }

    /// The spare for a call starting now, if it is fresh (a stale one is closed); gathering one
    /// that is on its way is waited for, as a call would gather its own as long. Another spare
    /// is gathered at once for the call after.
    func takeSpare() async -> GatheredSocket? {
        guard let pending = spare else { return nil }
        spare = nil
        let gathered = await pending.value
        if spareKeeper != nil { spare = gatherSpare() }
        guard let gathered, gathered.isFresh else {
            gathered?.socket.close()
            return nil
        }
        return gathered
    }

    private func refreshSpare() async {
        guard let pending = spare else {
            spare = gatherSpare()
            return
        }
        let current = await pending.value
        // Taken (or replaced) while it was being gathered: the taker owns it now.
        guard spare == pending else { return }
        guard let current else {
            spare = gatherSpare()
            return
        }
        spare = Task { await current.refreshed() }
    }

    private func gatherSpare() -> Task<GatheredSocket?, Never> {
        let session = self.session
        return Task { try? await GatheredSocket.gather(session: session) }
    }
}
