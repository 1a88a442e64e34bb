/// Scoring paths: single row, batches (tree-major over blocks of rows) and TreeSHAP.
extension LightGBMModel {
    /// Rows per block in batch scoring.
    private static let blockRows = 64

    /// Width of a prepared row: three copies of the features plus the -inf leaf slot.
    var preparedWidth: Int { 3 * featureNames.count + 1 }

    /// Writes the prepared row (see ``LightGBMNode``) for `row` into `out`.
    /// `x + 0` turns -0 into +0 so the sign test in ``fastStep(_:_:_:)`` treats both zeros alike.
    @inline(__always)
    static func prepare(_ row: UnsafePointer<Double>, featureCount: Int, into out: UnsafeMutablePointer<Double>) {
        for j in 0..<featureCount {
            let x = row[j]
            let missing = x.isNaN
            out[j] = missing ? .infinity : x + 0
            out[featureCount + j] = missing ? -.infinity : x + 0
            out[2 * featureCount + j] = missing ? 0 : x + 0
        }
        out[3 * featureCount] = -.infinity
    }

    /// One branch-free step for plain splits: `x > threshold` goes right, decided by the sign bit
    /// of `threshold - x` (exact: IEEE subtraction of distinct doubles is never zero). An
    /// arithmetic select keeps the compiler from turning the comparison into a branch.
    @inline(__always)
    static func fastStep(_ i: Int, _ nodes: UnsafePointer<LightGBMNode>, _ row: UnsafePointer<Double>) -> Int {
        let node = nodes[i]
        let difference = node.threshold - row[Int(node.slot)]
        return Int(UInt64(node.left) &+ (difference.bitPattern >> 63))
    }

    /// One step that also handles categorical and zero-as-missing splits.
    @inline(__always)
    static func step(
        _ i: Int, _ nodes: UnsafePointer<LightGBMNode>, _ row: UnsafePointer<Double>,
        _ special: UnsafePointer<LightGBMSpecialSplit>, _ bits: UnsafePointer<UInt32>
    ) -> Int {
        let split = special[i]
        if split.kind == .none { return fastStep(i, nodes, row) }
        let node = nodes[i]
        let x = row[Int(node.slot)]
        let left = Int(node.left)
        if split.kind == .categorical {
            // NaN (read as +inf), negative values and values beyond Int32 go right (LightGBM's CategoricalDecision).
            guard x > -1, x < 2_147_483_648 else { return left + 1 }
            let category = Int(x)  // truncates toward zero, as static_cast<int>
            let word = category >> 5
            guard word < Int(split.bitsCount) else { return left + 1 }
            return (bits[Int(split.bitsStart) + word] >> UInt32(category & 31)) & 1 == 1 ? left : left + 1
        }
        // Missing type Zero (NaN already read as 0): values within kZeroThreshold of 0 follow default_left.
        if x >= -LightGBMModel.zeroThreshold && x <= LightGBMModel.zeroThreshold { return split.defaultLeft ? left : left + 1 }
        return x <= node.threshold ? left : left + 1
    }

    @inline(__always)
    private func withBuffers<R>(
        _ body: (UnsafePointer<LightGBMNode>, UnsafePointer<LightGBMSpecialSplit>, UnsafePointer<UInt32>) -> R
    ) -> R {
        nodes.withUnsafeBufferPointer { n in
            specialSplits.withUnsafeBufferPointer { s in
                categoryBits.withUnsafeBufferPointer { b in
                    body(n.baseAddress.unsafelyUnwrapped, s.baseAddress.unsafelyUnwrapped, b.baseAddress.unsafelyUnwrapped)
                }
            }
        }
    }

    /// Margins of one prepared row into `acc[0..<marginCount]`, summed in tree order.
    /// Eight (then four) trees are walked together so their loads overlap.
    @inline(__always)
    private func margins(prepared row: UnsafePointer<Double>, into acc: UnsafeMutablePointer<Double>) {
        let k = marginCount
        for g in 0..<k { acc[g] = 0 }
        withBuffers { n, special, bits in
            treeRoots.withUnsafeBufferPointer { roots in
                treeDepths.withUnsafeBufferPointer { depths in
                    treeHasSpecial.withUnsafeBufferPointer { hasSpecial in
                        let count = roots.count
                        var t = 0
                        var g = 0
                        while t < count {
                            if t + 8 <= count && !(hasSpecial[t] || hasSpecial[t + 1] || hasSpecial[t + 2] || hasSpecial[t + 3]
                                || hasSpecial[t + 4] || hasSpecial[t + 5] || hasSpecial[t + 6] || hasSpecial[t + 7]) {
                                var i0 = roots[t], i1 = roots[t + 1], i2 = roots[t + 2], i3 = roots[t + 3]
                                var i4 = roots[t + 4], i5 = roots[t + 5], i6 = roots[t + 6], i7 = roots[t + 7]
                                var depth = depths[t]
                                for d in 1..<8 { depth = max(depth, depths[t + d]) }
                                for _ in 0..<depth {
                                    i0 = Self.fastStep(i0, n, row)
                                    i1 = Self.fastStep(i1, n, row)
                                    i2 = Self.fastStep(i2, n, row)
                                    i3 = Self.fastStep(i3, n, row)
                                    i4 = Self.fastStep(i4, n, row)
                                    i5 = Self.fastStep(i5, n, row)
                                    i6 = Self.fastStep(i6, n, row)
                                    i7 = Self.fastStep(i7, n, row)
                                }
                                if k == 1 {
                                    acc[0] += n[i0].threshold
                                    acc[0] += n[i1].threshold
                                    acc[0] += n[i2].threshold
                                    acc[0] += n[i3].threshold
                                    acc[0] += n[i4].threshold
                                    acc[0] += n[i5].threshold
                                    acc[0] += n[i6].threshold
                                    acc[0] += n[i7].threshold
                                } else {
                                    // Tree order, rotating through the classes (no temporary array).
                                    acc[g] += n[i0].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i1].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i2].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i3].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i4].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i5].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i6].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i7].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                }
                                t += 8
                                continue
                            }
                            if t + 4 <= count && !(hasSpecial[t] || hasSpecial[t + 1] || hasSpecial[t + 2] || hasSpecial[t + 3]) {
                                var i0 = roots[t], i1 = roots[t + 1], i2 = roots[t + 2], i3 = roots[t + 3]
                                let depth = max(max(depths[t], depths[t + 1]), max(depths[t + 2], depths[t + 3]))
                                for _ in 0..<depth {
                                    i0 = Self.fastStep(i0, n, row)
                                    i1 = Self.fastStep(i1, n, row)
                                    i2 = Self.fastStep(i2, n, row)
                                    i3 = Self.fastStep(i3, n, row)
                                }
                                if k == 1 {
                                    acc[0] += n[i0].threshold
                                    acc[0] += n[i1].threshold
                                    acc[0] += n[i2].threshold
                                    acc[0] += n[i3].threshold
                                } else {
                                    acc[g] += n[i0].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i1].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i2].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                    acc[g] += n[i3].threshold
                                    g = g + 1 == k ? 0 : g + 1
                                }
                                t += 4
                                continue
                            }
                            var i = roots[t]
                            if hasSpecial[t] {
                                for _ in 0..<depths[t] { i = Self.step(i, n, row, special, bits) }
                            } else {
                                for _ in 0..<depths[t] { i = Self.fastStep(i, n, row) }
                            }
                            acc[g] += n[i].threshold
                            g += 1
                            if g == k { g = 0 }
                            t += 1
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func withPrepared<R>(_ row: UnsafeBufferPointer<Double>, _ body: (UnsafePointer<Double>) -> R) -> R {
        let featureCount = featureNames.count
        precondition(row.count >= featureCount, "row has \(row.count) values, expected \(featureCount)")
        return ThreadScratch.with(Double.self, count: preparedWidth) { prepared in
            Self.prepare(row.baseAddress.unsafelyUnwrapped, featureCount: featureCount, into: prepared)
            return body(prepared)
        }
    }

    package func predictMargin(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= marginCount, "output has room for \(output.count) values, expected \(marginCount)")
        withPrepared(row) { prepared in margins(prepared: prepared, into: output.baseAddress.unsafelyUnwrapped) }
    }

    package func predict(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= outputCount, "output has room for \(output.count) values, expected \(outputCount)")
        let k = marginCount
        withPrepared(row) { prepared in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { scratch in
                let m = scratch.baseAddress.unsafelyUnwrapped
                margins(prepared: prepared, into: m)
                if outputScale != 1 {
                    for g in 0..<k { m[g] *= outputScale }
                }
                transform.apply(m, k, into: output.baseAddress.unsafelyUnwrapped)
            }
        }
    }

    package func predictBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= rowCount * outputCount, "output has room for \(output.count) values, expected \(rowCount * outputCount)")
        batch(rows: rows, rowCount: rowCount, output: output, applyTransform: true)
    }

    package func predictMarginBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= rowCount * marginCount, "output has room for \(output.count) values, expected \(rowCount * marginCount)")
        batch(rows: rows, rowCount: rowCount, output: output, applyTransform: false)
    }

    /// Tree-major scoring of blocks of rows, eight (then four) rows walking each tree together.
    private func batch(rows: UnsafeBufferPointer<Double>, rowCount: Int, output: UnsafeMutableBufferPointer<Double>, applyTransform: Bool) {
        let featureCount = featureNames.count
        precondition(rows.count >= rowCount * featureCount, "rows hold \(rows.count) values, expected \(rowCount) x \(featureCount)")
        guard rowCount > 0 else { return }
        let k = marginCount
        let width = preparedWidth
        let block = max(4, min(Self.blockRows, 16_384 / width)) & ~3
        let outWidth = applyTransform ? outputCount : k
        ThreadScratch.with(Double.self, count: block * (width + k)) { xs in
            let acc = xs + block * width
            withBuffers { n, special, bits in
                treeRoots.withUnsafeBufferPointer { roots in
                    treeDepths.withUnsafeBufferPointer { depths in
                        treeHasSpecial.withUnsafeBufferPointer { hasSpecial in
                            var start = 0
                            while start < rowCount {
                                let count = min(block, rowCount - start)
                                let source = rows.baseAddress.unsafelyUnwrapped + start * featureCount
                                for r in 0..<count {
                                    Self.prepare(source + r * featureCount, featureCount: featureCount, into: xs + r * width)
                                }
                                for j in 0..<(count * k) { acc[j] = 0 }
                                var group = 0
                                for t in 0..<roots.count {
                                    let root = roots[t], depth = depths[t]
                                    var r = 0
                                    if hasSpecial[t] {
                                        while r < count {
                                            var i = root
                                            let x = xs + r * width
                                            for _ in 0..<depth { i = Self.step(i, n, x, special, bits) }
                                            acc[r * k + group] += n[i].threshold
                                            r += 1
                                        }
                                    } else {
                                        accumulateLeaves(root: root, depth: depth, rows: xs, width: width, count: count,
                                                         into: acc, stride: k, offset: group,
                                                         step: { Self.fastStep($0, n, $1) }, leaf: { n[$0].threshold })
                                    }
                                    group += 1
                                    if group == k { group = 0 }
                                }
                                let out = output.baseAddress.unsafelyUnwrapped + start * outWidth
                                for r in 0..<count {
                                    let m = acc + r * k
                                    if applyTransform {
                                        if outputScale != 1 {
                                            for g in 0..<k { m[g] *= outputScale }
                                        }
                                        transform.apply(m, k, into: out + r * outWidth)
                                    } else {
                                        (out + r * k).update(from: m, count: k)
                                    }
                                }
                                start += count
                            }
                        }
                    }
                }
            }
        }
    }

    package func validate(row: UnsafeBufferPointer<Double>) throws(ModelError) {
        try validateWidth(row)
    }

    /// TreeSHAP with LightGBM's data counts as cover (`pred_contrib=True`).
    package func explain(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        let featureCount = featureNames.count
        let width = featureCount + 1
        let k = marginCount
        precondition(contributions.count >= k * width, "contributions has room for \(contributions.count) values, expected \(k * width)")
        let out = contributions.baseAddress.unsafelyUnwrapped
        for j in 0..<(k * width) { out[j] = 0 }
        precondition(row.count >= featureCount, "row has \(row.count) values, expected \(featureCount)")
        let pathCount = TreeShap.scratchCount(maxDepth: maxDepth)
        ThreadScratch.with(ShapPathElement.self, count: pathCount, Double.self, count: preparedWidth) { scratch, prepared in
            Self.prepare(row.baseAddress.unsafelyUnwrapped, featureCount: featureCount, into: prepared)
            do {
                let (path, reciprocals) = TreeShap.prepare(scratch, count: pathCount, maxDepth: maxDepth)
                withBuffers { n, special, bits in
                    nodeFeatures.withUnsafeBufferPointer { features in
                        covers.withUnsafeBufferPointer { coverBuffer in
                            let view = ShapView(nodes: n, features: features.baseAddress.unsafelyUnwrapped,
                                                covers: coverBuffer.baseAddress.unsafelyUnwrapped,
                                                special: special, bits: bits, row: prepared)
                            for t in 0..<treeRoots.count {
                                let block = out + (t % k) * width
                                block[featureCount] += treeExpectations[t]
                                TreeShap.accumulate(view, root: treeRoots[t], scale: 1, phi: block, scratch: path, reciprocals: reciprocals)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Path attribution: per tree, each split on the decision path credits its feature with the
    /// change of the node mean (count-weighted, as LightGBM's expected values).
    package func explainPath(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        let featureCount = featureNames.count
        let width = featureCount + 1
        let k = marginCount
        precondition(contributions.count >= k * width, "contributions has room for \(contributions.count) values, expected \(k * width)")
        let out = contributions.baseAddress.unsafelyUnwrapped
        for j in 0..<(k * width) { out[j] = 0 }
        withPrepared(row) { prepared in
            withBuffers { n, special, bits in
                nodeFeatures.withUnsafeBufferPointer { features in
                    nodeMeans.withUnsafeBufferPointer { means in
                        for t in 0..<treeRoots.count {
                            let block = out + (t % k) * width
                            var i = treeRoots[t]
                            block[featureCount] += means[i]
                            while Int(n[i].left) != i {
                                let next = Self.step(i, n, prepared, special, bits)
                                block[Int(features[i])] += means[next] - means[i]
                                i = next
                            }
                        }
                    }
                }
            }
        }
    }

    private struct ShapView: ShapTree {
        let nodes: UnsafePointer<LightGBMNode>
        let features: UnsafePointer<Int32>
        let covers: UnsafePointer<Double>
        let special: UnsafePointer<LightGBMSpecialSplit>
        let bits: UnsafePointer<UInt32>
        let row: UnsafePointer<Double>

        func isLeaf(_ node: Int) -> Bool { Int(nodes[node].left) == node }
        func feature(_ node: Int) -> Int { Int(features[node]) }
        func leftChild(_ node: Int) -> Int { Int(nodes[node].left) }
        func cover(_ node: Int) -> Double { covers[node] }
        func leafValue(_ node: Int) -> Double { nodes[node].threshold }
        func goesRight(_ node: Int) -> Bool {
            LightGBMModel.step(node, nodes, row, special, bits) != Int(nodes[node].left)
        }
    }
}
