/// The view of one decision tree that TreeSHAP needs, with the row already bound.
///
/// Node indices are those of the flattened ensemble; the right child is always `leftChild + 1`.
protocol ShapTree {
    func isLeaf(_ node: Int) -> Bool
    func feature(_ node: Int) -> Int
    func leftChild(_ node: Int) -> Int
    /// Training weight reaching the node: XGBoost's `sum_hessian`, LightGBM's data count.
    func cover(_ node: Int) -> Double
    func leafValue(_ node: Int) -> Double
    /// Whether the bound row goes to the right child at `node` (missing values included).
    func goesRight(_ node: Int) -> Bool
}

/// One element of the unique feature path of TreeSHAP.
struct ShapPathElement {
    var feature: Int = -1
    var zeroFraction: Double = 0
    var oneFraction: Double = 0
    var weight: Double = 0
}

/// Exact path-dependent TreeSHAP (Lundberg, Erion & Lee, "Consistent Individualized Feature
/// Attribution for Tree Ensembles", Algorithm 2), computing the same quantity as XGBoost's
/// `pred_contribs` and LightGBM's `pred_contrib`.
///
/// The unique path of every recursion level lives in one caller-provided scratch buffer,
/// so explaining a row allocates nothing beyond that buffer.
enum TreeShap {
    /// Number of path elements needed for a tree whose deepest leaf is at `maxDepth`,
    /// plus room for the reciprocal table (stored as path elements' weights).
    static func scratchCount(maxDepth: Int) -> Int {
        (maxDepth + 2) * (maxDepth + 3) / 2 + 1 + maxDepth + 3
    }

    /// Fills the scratch buffer: zeroed path elements, and at the end `1/k` for `k` in `0...maxDepth+2`
    /// (the divisions by small integers become multiplications). Returns (path, reciprocals).
    static func prepare(
        _ base: UnsafeMutablePointer<ShapPathElement>, count: Int, maxDepth: Int
    ) -> (UnsafeMutablePointer<ShapPathElement>, UnsafeMutablePointer<ShapPathElement>) {
        base.initialize(repeating: ShapPathElement(), count: count)
        let table = base + (count - (maxDepth + 3))
        for k in 1..<(maxDepth + 3) { table[k].weight = 1 / Double(k) }
        return (base, table)
    }

    /// Adds the SHAP values of one tree (leaf values multiplied by `scale`) to `phi[0..<featureCount]`.
    static func accumulate<Tree: ShapTree>(
        _ tree: Tree, root: Int, scale: Double,
        phi: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<ShapPathElement>,
        reciprocals: UnsafeMutablePointer<ShapPathElement>
    ) {
        if tree.isLeaf(root) { return }
        recurse(tree, node: root, scale: scale, phi: phi, parentPath: scratch, uniqueDepth: 0,
                parentZero: 1, parentOne: 1, parentFeature: -1, r: reciprocals)
    }

    private static func recurse<Tree: ShapTree>(
        _ tree: Tree, node: Int, scale: Double, phi: UnsafeMutablePointer<Double>,
        parentPath: UnsafeMutablePointer<ShapPathElement>, uniqueDepth depthIn: Int,
        parentZero: Double, parentOne: Double, parentFeature: Int, r: UnsafeMutablePointer<ShapPathElement>
    ) {
        var uniqueDepth = depthIn
        // This level's path starts right after the parent's, which holds uniqueDepth elements (+1 spare).
        let path = parentPath + (uniqueDepth + 1)
        path.update(from: parentPath, count: uniqueDepth + 1)
        extend(path, uniqueDepth: uniqueDepth, zero: parentZero, one: parentOne, feature: parentFeature, r: r)

        if tree.isLeaf(node) {
            let value = tree.leafValue(node) * scale
            if uniqueDepth >= 1 {
                for i in 1...uniqueDepth {
                    let w = unwoundSum(path, uniqueDepth: uniqueDepth, index: i, r: r)
                    let element = path[i]
                    phi[element.feature] += w * (element.oneFraction - element.zeroFraction) * value
                }
            }
            return
        }

        let left = tree.leftChild(node)
        let hot = tree.goesRight(node) ? left + 1 : left
        let cold = hot == left ? left + 1 : left
        let cover = tree.cover(node)
        let hotZero = cover > 0 ? tree.cover(hot) / cover : 0
        let coldZero = cover > 0 ? tree.cover(cold) / cover : 0
        var incomingZero = 1.0
        var incomingOne = 1.0
        let feature = tree.feature(node)

        // A feature already on the path is undone and redone with the combined fractions.
        var index = 0
        while index <= uniqueDepth {
            if path[index].feature == feature { break }
            index += 1
        }
        if index != uniqueDepth + 1 {
            incomingZero = path[index].zeroFraction
            incomingOne = path[index].oneFraction
            unwind(path, uniqueDepth: uniqueDepth, index: index, r: r)
            uniqueDepth -= 1
        }

        recurse(tree, node: hot, scale: scale, phi: phi, parentPath: path, uniqueDepth: uniqueDepth + 1,
                parentZero: hotZero * incomingZero, parentOne: incomingOne, parentFeature: feature, r: r)
        recurse(tree, node: cold, scale: scale, phi: phi, parentPath: path, uniqueDepth: uniqueDepth + 1,
                parentZero: coldZero * incomingZero, parentOne: 0, parentFeature: feature, r: r)
    }

    private static func extend(
        _ path: UnsafeMutablePointer<ShapPathElement>, uniqueDepth: Int, zero: Double, one: Double, feature: Int,
        r: UnsafeMutablePointer<ShapPathElement>
    ) {
        path[uniqueDepth] = ShapPathElement(feature: feature, zeroFraction: zero, oneFraction: one,
                                            weight: uniqueDepth == 0 ? 1 : 0)
        let inverse = r[uniqueDepth + 1].weight
        var i = uniqueDepth - 1
        while i >= 0 {
            path[i + 1].weight += one * path[i].weight * Double(i + 1) * inverse
            path[i].weight = zero * path[i].weight * Double(uniqueDepth - i) * inverse
            i -= 1
        }
    }

    private static func unwind(
        _ path: UnsafeMutablePointer<ShapPathElement>, uniqueDepth: Int, index: Int, r: UnsafeMutablePointer<ShapPathElement>
    ) {
        let one = path[index].oneFraction
        let zero = path[index].zeroFraction
        var nextOnePortion = path[uniqueDepth].weight
        let total = Double(uniqueDepth + 1)
        let inverseTotal = r[uniqueDepth + 1].weight
        var i = uniqueDepth - 1
        if one != 0 {
            let scale = total / one
            while i >= 0 {
                let saved = path[i].weight
                path[i].weight = nextOnePortion * scale * r[i + 1].weight
                nextOnePortion = saved - path[i].weight * zero * Double(uniqueDepth - i) * inverseTotal
                i -= 1
            }
        } else {
            let scale = total / zero
            while i >= 0 {
                path[i].weight = path[i].weight * scale * r[uniqueDepth - i].weight
                i -= 1
            }
        }
        var j = index
        while j < uniqueDepth {
            path[j].feature = path[j + 1].feature
            path[j].zeroFraction = path[j + 1].zeroFraction
            path[j].oneFraction = path[j + 1].oneFraction
            j += 1
        }
    }

    private static func unwoundSum(
        _ path: UnsafeMutablePointer<ShapPathElement>, uniqueDepth: Int, index: Int, r: UnsafeMutablePointer<ShapPathElement>
    ) -> Double {
        let one = path[index].oneFraction
        let zero = path[index].zeroFraction
        var sum = 0.0
        let total = Double(uniqueDepth + 1)
        var i = uniqueDepth - 1
        if one != 0 {
            var nextOnePortion = path[uniqueDepth].weight
            let scale = total / one
            let zeroOverTotal = zero * r[uniqueDepth + 1].weight
            while i >= 0 {
                let t = nextOnePortion * scale * r[i + 1].weight
                sum += t
                nextOnePortion = path[i].weight - t * zeroOverTotal * Double(uniqueDepth - i)
                i -= 1
            }
        } else if zero != 0 {
            let scale = total / zero
            while i >= 0 {
                sum += path[i].weight * scale * r[uniqueDepth - i].weight
                i -= 1
            }
        }
        return sum
    }
}
