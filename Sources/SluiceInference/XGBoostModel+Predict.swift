/// Scoring paths: single row, batches (tree-major over blocks of rows) and TreeSHAP.
extension XGBoostModel {
    /// Width of a prepared row: three copies of the features plus the -inf leaf slot.
    var preparedWidth: Int { 3 * featureNames.count + 1 }

    /// Writes the prepared float32 row (see ``XGBoostNode``) for `row` into `out`.
    /// `x + 0` turns -0 into +0 so the sign test in ``step(_:_:_:)`` treats both zeros alike.
    @inline(__always)
    static func prepare(_ row: UnsafePointer<Double>, featureCount: Int, into out: UnsafeMutablePointer<Float>) {
        for j in 0..<featureCount {
            let x = Float(row[j])
            let missing = x.isNaN
            out[j] = missing ? .infinity : x + 0
            out[featureCount + j] = missing ? -.infinity : x + 0
            out[2 * featureCount + j] = x
        }
        out[3 * featureCount] = -.infinity
    }

    /// One branch-free step: `x >= threshold` goes right, decided by the sign bit of `x - threshold`
    /// (exact for finite and infinite x: IEEE subtraction of distinct floats is never zero).
    /// An arithmetic select keeps the compiler from turning the comparison into a branch,
    /// which mispredicts half the time.
    @inline(__always)
    static func step(_ i: Int, _ nodes: UnsafePointer<XGBoostNode>, _ row: UnsafePointer<Float>) -> Int {
        let node = nodes[i]
        let difference = row[Int(node.slot)] - node.threshold
        return Int(node.left &+ 1 &- (difference.bitPattern >> 31))
    }

    /// One step that also handles categorical splits (XGBoost's categorical `Decision`).
    @inline(__always)
    static func step(
        _ i: Int, _ nodes: UnsafePointer<XGBoostNode>, _ row: UnsafePointer<Float>,
        _ categories: UnsafePointer<XGBoostCategorySplit>, _ bits: UnsafePointer<UInt32>
    ) -> Int {
        let split = categories[i]
        if split.bitsCount < 0 { return step(i, nodes, row) }
        let node = nodes[i]
        let left = Int(node.left)
        let x = row[Int(node.slot)]
        if x.isNaN { return split.defaultLeft ? left : left + 1 }
        // Negative and out-of-range codes are invalid categories and go left, as do unseen ones.
        guard x >= 0, x < 16_777_216 else { return left }
        let category = Int(x)
        let word = category >> 5
        guard word < Int(split.bitsCount) else { return left }
        return (bits[Int(split.bitsStart) + word] >> UInt32(category & 31)) & 1 == 1 ? left + 1 : left
    }

    @inline(__always)
    private func withCategoryBuffers<R>(_ body: (UnsafePointer<XGBoostCategorySplit>, UnsafePointer<UInt32>) -> R) -> R {
        categorySplits.withUnsafeBufferPointer { c in
            categoryBits.withUnsafeBufferPointer { b in
                body(c.baseAddress.unsafelyUnwrapped, b.baseAddress.unsafelyUnwrapped)
            }
        }
    }

    /// Adds every tree's leaf to `acc` (float32, one per group; holds the base margins on entry),
    /// in tree order as XGBoost does. Eight (then four) trees are walked together so their loads overlap.
    @inline(__always)
    private func accumulate(row: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>) {
        nodes.withUnsafeBufferPointer { nodesBuffer in
            treeRoots.withUnsafeBufferPointer { roots in
                treeDepths.withUnsafeBufferPointer { depths in
                    treeGroups.withUnsafeBufferPointer { groups in
                        let n = nodesBuffer.baseAddress.unsafelyUnwrapped
                        let count = roots.count
                        var t = 0
                        if hasCategorical {
                            withCategoryBuffers { categories, bits in
                                for tree in 0..<count {
                                    var i = roots[tree]
                                    if treeHasCategorical[tree] {
                                        for _ in 0..<depths[tree] { i = Self.step(i, n, row, categories, bits) }
                                    } else {
                                        for _ in 0..<depths[tree] { i = Self.step(i, n, row) }
                                    }
                                    acc[groups[tree]] += n[i].threshold
                                }
                            }
                            return
                        }
                        while t + 8 <= count {
                            var i0 = roots[t], i1 = roots[t + 1], i2 = roots[t + 2], i3 = roots[t + 3]
                            var i4 = roots[t + 4], i5 = roots[t + 5], i6 = roots[t + 6], i7 = roots[t + 7]
                            var depth = depths[t]
                            for d in 1..<8 { depth = max(depth, depths[t + d]) }
                            for _ in 0..<depth {
                                i0 = Self.step(i0, n, row)
                                i1 = Self.step(i1, n, row)
                                i2 = Self.step(i2, n, row)
                                i3 = Self.step(i3, n, row)
                                i4 = Self.step(i4, n, row)
                                i5 = Self.step(i5, n, row)
                                i6 = Self.step(i6, n, row)
                                i7 = Self.step(i7, n, row)
                            }
                            acc[groups[t]] += n[i0].threshold
                            acc[groups[t + 1]] += n[i1].threshold
                            acc[groups[t + 2]] += n[i2].threshold
                            acc[groups[t + 3]] += n[i3].threshold
                            acc[groups[t + 4]] += n[i4].threshold
                            acc[groups[t + 5]] += n[i5].threshold
                            acc[groups[t + 6]] += n[i6].threshold
                            acc[groups[t + 7]] += n[i7].threshold
                            t += 8
                        }
                        while t + 4 <= count {
                            var i0 = roots[t], i1 = roots[t + 1], i2 = roots[t + 2], i3 = roots[t + 3]
                            let depth = max(max(depths[t], depths[t + 1]), max(depths[t + 2], depths[t + 3]))
                            for _ in 0..<depth {
                                i0 = Self.step(i0, n, row)
                                i1 = Self.step(i1, n, row)
                                i2 = Self.step(i2, n, row)
                                i3 = Self.step(i3, n, row)
                            }
                            acc[groups[t]] += n[i0].threshold
                            acc[groups[t + 1]] += n[i1].threshold
                            acc[groups[t + 2]] += n[i2].threshold
                            acc[groups[t + 3]] += n[i3].threshold
                            t += 4
                        }
                        while t < count {
                            var i = roots[t]
                            for _ in 0..<depths[t] { i = Self.step(i, n, row) }
                            acc[groups[t]] += n[i].threshold
                            t += 1
                        }
                    }
                }
            }
        }
    }

    /// Prepares a row and computes its margins in float32.
    @inline(__always)
    private func withMargins<R>(row: UnsafeBufferPointer<Double>, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let featureCount = featureNames.count
        precondition(row.count >= featureCount, "row has \(row.count) values, expected \(featureCount)")
        return ThreadScratch.with(Float.self, count: preparedWidth + marginCount) { base in
            Self.prepare(row.baseAddress.unsafelyUnwrapped, featureCount: featureCount, into: base)
            let acc = base + preparedWidth
            for k in 0..<marginCount { acc[k] = baseMargins[k] }
            accumulate(row: base, into: acc)
            return body(acc)
        }
    }

    package func predictMargin(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= marginCount, "output has room for \(output.count) values, expected \(marginCount)")
        withMargins(row: row) { acc in
            for k in 0..<marginCount { output[k] = Double(acc[k]) }
        }
    }

    package func predict(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= outputCount, "output has room for \(output.count) values, expected \(outputCount)")
        let k = marginCount
        withMargins(row: row) { acc in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { margins in
                let m = margins.baseAddress.unsafelyUnwrapped
                for j in 0..<k { m[j] = Double(acc[j]) }
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

    /// Tree-major scoring of blocks of rows; eight (then four) rows walk each tree together so
    /// their independent node loads overlap, and the tree's nodes stay hot in cache.
    private func batch(rows: UnsafeBufferPointer<Double>, rowCount: Int, output: UnsafeMutableBufferPointer<Double>, applyTransform: Bool) {
        let featureCount = featureNames.count
        precondition(rows.count >= rowCount * featureCount, "rows hold \(rows.count) values, expected \(rowCount) x \(featureCount)")
        guard rowCount > 0 else { return }
        let k = marginCount
        let width = preparedWidth
        let block = max(4, min(128, 16_384 / width)) & ~3
        let outWidth = applyTransform ? outputCount : k
        ThreadScratch.with(Float.self, count: block * (width + k)) { xs in
            let acc = xs + block * width
            withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { marginScratch in
                let m = marginScratch.baseAddress.unsafelyUnwrapped
                nodes.withUnsafeBufferPointer { nodesBuffer in
                    treeRoots.withUnsafeBufferPointer { roots in
                        treeDepths.withUnsafeBufferPointer { depths in
                            treeGroups.withUnsafeBufferPointer { groups in
                                let n = nodesBuffer.baseAddress.unsafelyUnwrapped
                                var start = 0
                                while start < rowCount {
                                    let count = min(block, rowCount - start)
                                    let source = rows.baseAddress.unsafelyUnwrapped + start * featureCount
                                    for r in 0..<count {
                                        Self.prepare(source + r * featureCount, featureCount: featureCount, into: xs + r * width)
                                        for g in 0..<k { acc[r * k + g] = baseMargins[g] }
                                    }
                                    for t in 0..<roots.count {
                                        let root = roots[t], depth = depths[t], group = groups[t]
                                        if treeHasCategorical[t] {
                                            withCategoryBuffers { categories, bits in
                                                for row in 0..<count {
                                                    var i = root
                                                    let x = xs + row * width
                                                    for _ in 0..<depth { i = Self.step(i, n, x, categories, bits) }
                                                    acc[row * k + group] += n[i].threshold
                                                }
                                            }
                                            continue
                                        }
                                        accumulateLeaves(root: root, depth: depth, rows: xs, width: width, count: count,
                                                         into: acc, stride: k, offset: group,
                                                         step: { Self.step($0, n, $1) }, leaf: { n[$0].threshold })
                                    }
                                    let out = output.baseAddress.unsafelyUnwrapped + start * outWidth
                                    for r in 0..<count {
                                        if applyTransform {
                                            for g in 0..<k { m[g] = Double(acc[r * k + g]) }
                                            transform.apply(m, k, into: out + r * outWidth)
                                        } else {
                                            for g in 0..<k { out[r * k + g] = Double(acc[r * k + g]) }
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
    }

    package func validate(row: UnsafeBufferPointer<Double>) throws(ModelError) {
        try validateWidth(row)
    }

    /// TreeSHAP over float32-converted inputs (the values XGBoost compares).
    package func explain(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        let featureCount = featureNames.count
        let width = featureCount + 1
        precondition(row.count >= featureCount, "row has \(row.count) values, expected \(featureCount)")
        precondition(contributions.count >= marginCount * width,
                     "contributions has room for \(contributions.count) values, expected \(marginCount * width)")
        let out = contributions.baseAddress.unsafelyUnwrapped
        for k in 0..<marginCount {
            for j in 0..<featureCount { out[k * width + j] = 0 }
            out[k * width + featureCount] = Double(baseMargins[k])
        }
        let pathCount = TreeShap.scratchCount(maxDepth: maxDepth)
        ThreadScratch.with(ShapPathElement.self, count: pathCount, Float.self, count: preparedWidth) { scratch, xs in
            Self.prepare(row.baseAddress.unsafelyUnwrapped, featureCount: featureCount, into: xs)
            do {
                let (path, reciprocals) = TreeShap.prepare(scratch, count: pathCount, maxDepth: maxDepth)
                nodes.withUnsafeBufferPointer { nodesBuffer in
                    nodeFeatures.withUnsafeBufferPointer { features in
                        covers.withUnsafeBufferPointer { coverBuffer in
                            withCategoryBuffers { categories, bits in
                                let view = ShapView(nodes: nodesBuffer.baseAddress.unsafelyUnwrapped,
                                                    features: features.baseAddress.unsafelyUnwrapped,
                                                    covers: coverBuffer.baseAddress.unsafelyUnwrapped,
                                                    categories: categories, bits: bits, row: xs)
                                for t in 0..<treeRoots.count {
                                    let block = out + treeGroups[t] * width
                                    block[featureCount] += treeExpectations[t]
                                    TreeShap.accumulate(view, root: treeRoots[t], scale: 1, phi: block, scratch: path, reciprocals: reciprocals)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Path attribution (XGBoost's `approx_contribs`): per tree, each split on the decision path
    /// credits its feature with the change of the node mean.
    package func explainPath(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        let featureCount = featureNames.count
        let width = featureCount + 1
        precondition(row.count >= featureCount, "row has \(row.count) values, expected \(featureCount)")
        precondition(contributions.count >= marginCount * width,
                     "contributions has room for \(contributions.count) values, expected \(marginCount * width)")
        let out = contributions.baseAddress.unsafelyUnwrapped
        for k in 0..<marginCount {
            for j in 0..<featureCount { out[k * width + j] = 0 }
            out[k * width + featureCount] = Double(baseMargins[k])
        }
        ThreadScratch.with(Float.self, count: preparedWidth) { xs in
            Self.prepare(row.baseAddress.unsafelyUnwrapped, featureCount: featureCount, into: xs)
            nodes.withUnsafeBufferPointer { nodesBuffer in
                nodeFeatures.withUnsafeBufferPointer { features in
                    nodeMeans.withUnsafeBufferPointer { means in
                        withCategoryBuffers { categories, bits in
                            let n = nodesBuffer.baseAddress.unsafelyUnwrapped
                            for t in 0..<treeRoots.count {
                                let block = out + treeGroups[t] * width
                                var i = treeRoots[t]
                                block[featureCount] += means[i]
                                while Int(n[i].left) != i {
                                    let next = Self.step(i, n, xs, categories, bits)
                                    block[Int(features[i])] += means[next] - means[i]
                                    i = next
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private struct ShapView: ShapTree {
        let nodes: UnsafePointer<XGBoostNode>
        let features: UnsafePointer<Int32>
        let covers: UnsafePointer<Double>
        let categories: UnsafePointer<XGBoostCategorySplit>
        let bits: UnsafePointer<UInt32>
        let row: UnsafePointer<Float>

        func isLeaf(_ node: Int) -> Bool { Int(nodes[node].left) == node }
        func feature(_ node: Int) -> Int { Int(features[node]) }
        func leftChild(_ node: Int) -> Int { Int(nodes[node].left) }
        func cover(_ node: Int) -> Double { covers[node] }
        func leafValue(_ node: Int) -> Double { Double(nodes[node].threshold) }
        func goesRight(_ node: Int) -> Bool {
            XGBoostModel.step(node, nodes, row, categories, bits) != Int(nodes[node].left)
        }
    }
}
