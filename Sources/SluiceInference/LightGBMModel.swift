import Foundation

/// One node of the flattened LightGBM ensemble (16 bytes, one load per visited node).
///
/// Scoring reads a prepared row of `3 * featureCount + 1` doubles: the row with NaN replaced by
/// +inf, by -inf, and by 0, then one -inf. Each split reads the copy that encodes its missing
/// value rule, so `x > threshold` alone picks the child:
/// missing type NaN reads the +inf copy (NaN goes right) or the -inf copy (default left);
/// missing type None reads the 0 copy (LightGBM compares NaN as 0). Leaves read the trailing
/// -inf, loop onto themselves and keep their value in `threshold`.
struct LightGBMNode {
    /// `x <= threshold` goes left (LightGBM compares in double precision); the leaf value for leaves.
    var threshold: Double
    /// Index into the prepared row.
    var slot: UInt32
    /// Position of the left child (the node itself for leaves); the right child is `left + 1`.
    var left: UInt32
}

/// The extra data of a categorical or zero-as-missing split.
struct LightGBMSpecialSplit: Sendable {
    enum Kind: UInt8, Sendable {
        /// A plain numerical split, handled by ``LightGBMNode`` alone.
        case none
        /// Category bitset test; reads the +inf copy, so NaN goes right.
        case categorical
        /// Missing type Zero; reads the 0 copy, and |x| <= kZeroThreshold follows default_left.
        case zeroMissing
    }

    var kind: Kind
    /// Zero-as-missing split: where zero (and NaN) goes.
    var defaultLeft: Bool
    /// Categorical: the range of 32-bit words of the category bitset in ``LightGBMModel/categoryBits``.
    var bitsStart: Int32
    var bitsCount: Int32

    static let plain = LightGBMSpecialSplit(kind: .none, defaultLeft: false, bitsStart: 0, bitsCount: 0)
}

/// A native evaluator for LightGBM models saved in text form (`Booster.save_model("m.txt")`).
///
/// Follows LightGBM's decision rules exactly (`include/LightGBM/tree.h`):
/// - numerical split: `x <= threshold` goes left. With missing type None a NaN is treated as 0;
///   with missing type NaN a NaN follows default_left; with missing type Zero, NaN becomes 0 and
///   any |x| <= 1e-35 (kZeroThreshold) follows default_left.
/// - categorical split: NaN and negative values go right; otherwise the value is truncated to an
///   integer and goes left when its bit is set in the split's `cat_threshold` bitset.
/// Leaf values are summed in double precision in tree order. For `average_output` (random
/// forest) models, as in LightGBM, margins and contributions are the raw sums and predictions
/// apply the link to the sum divided by the number of iterations. Objectives: binary (with its `sigmoid`), regression and its variants
/// (l1, huber, fair, quantile, mape; `sqrt`), poisson, gamma, tweedie, cross_entropy,
/// cross_entropy_lambda, multiclass (softmax), multiclassova and ranking. Linear trees are refused.
package struct LightGBMModel: Model {
    package var format: ModelFormat { .lightgbmText }
    package let featureNames: [String]
    package let outputCount: Int
    package let marginCount: Int
    /// The objective line from the file, e.g. `binary sigmoid:1`.
    package let objective: String
    /// Number of trees in the ensemble.
    package var treeCount: Int { treeRoots.count }

    let nodes: [LightGBMNode]
    /// Original feature index of each node (-1 for leaves), for explanations.
    let nodeFeatures: [Int32]
    let covers: [Double]
    let specialSplits: [LightGBMSpecialSplit]
    let categoryBits: [UInt32]
    let treeRoots: [Int]
    let treeDepths: [Int]
    let treeHasSpecial: [Bool]
    let treeExpectations: [Double]
    /// Count-weighted mean leaf value under each node, for path attribution.
    let nodeMeans: [Double]
    let transform: OutputTransform
    /// 1, or 1 / iterations for `average_output` models (applied to predictions only).
    let outputScale: Double
    let maxDepth: Int

    /// Loads a LightGBM text model.
    /// - Throws: ``ModelError`` naming the line or key that is missing, malformed or unsupported.
    package init(data: Data) throws(ModelError) {
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            line.hasSuffix("\r") ? line.dropLast() : line
        }[...]
        let context = "lightgbm text"
        guard let first = lines.first, first == "tree" else {
            throw .invalid("\(context): line 1 is \"\(lines.first.map { String($0.prefix(40)) } ?? "")\", expected \"tree\"")
        }
        lines = lines.dropFirst()

        // Header: key=value lines up to the first Tree= block.
        var header: [Substring: Substring] = [:]
        var averageOutput = false
        while let line = lines.first, !line.hasPrefix("Tree=") {
            if line == "end of trees" { break }
            if line == "average_output" {
                averageOutput = true
            } else if let eq = line.firstIndex(of: "=") {
                header[line[..<eq]] = line[line.index(after: eq)...]
            }
            lines = lines.dropFirst()
        }
        func headerInt(_ key: Substring) throws(ModelError) -> Int {
            guard let value = header[key] else { throw .invalid("\(context): header line \(key)= is missing") }
            guard let v = Int(value) else { throw .invalid("\(context): \(key) is \"\(value)\", expected an integer") }
            return v
        }
        let numClass = try headerInt("num_class")
        let perIteration = try headerInt("num_tree_per_iteration")
        let maxFeatureIndex = try headerInt("max_feature_idx")
        guard perIteration >= 1, numClass >= 1, maxFeatureIndex >= 0 else {
            throw .invalid("\(context): num_class=\(numClass), num_tree_per_iteration=\(perIteration), max_feature_idx=\(maxFeatureIndex) are not positive")
        }
        let featureCount = maxFeatureIndex + 1
        if let names = header["feature_names"] {
            let list = names.split(separator: " ").map(String.init)
            guard list.count == featureCount else {
                throw .invalid("\(context): feature_names has \(list.count) names, expected \(featureCount) (max_feature_idx + 1)")
            }
            featureNames = list
        } else {
            featureNames = (0..<featureCount).map { "Column_\($0)" }
        }
        let objectiveLine = String(header["objective"] ?? "regression")
        objective = objectiveLine
        transform = try Self.transform(objective: objectiveLine, context: context)
        marginCount = perIteration
        outputCount = transform.outputCount(marginCount: perIteration)

        // Trees.
        var builder = Builder(featureCount: featureCount)
        while let line = lines.first, line.hasPrefix("Tree=") {
            lines = lines.dropFirst()
            var fields: [Substring: Substring] = [:]
            while let l = lines.first, !l.isEmpty, !l.hasPrefix("Tree="), l != "end of trees" {
                if let eq = l.firstIndex(of: "=") { fields[l[..<eq]] = l[l.index(after: eq)...] }
                lines = lines.dropFirst()
            }
            while let l = lines.first, l.isEmpty { lines = lines.dropFirst() }
            try builder.addTree(fields: fields, context: "\(context): \(line)")
        }
        guard lines.first == "end of trees" else {
            throw .invalid("\(context): the file ends after \(builder.roots.count) trees without an \"end of trees\" line (truncated?)")
        }
        guard !builder.roots.isEmpty, builder.roots.count % perIteration == 0 else {
            throw .invalid("\(context): the model has \(builder.roots.count) trees, expected a positive multiple of num_tree_per_iteration=\(perIteration)")
        }
        nodes = builder.nodes
        nodeFeatures = builder.nodeFeatures
        covers = builder.covers
        specialSplits = builder.special
        categoryBits = builder.categoryBits.isEmpty ? [0] : builder.categoryBits  // never empty: one base address
        treeRoots = builder.roots
        treeDepths = builder.depths
        treeHasSpecial = builder.hasSpecial
        treeExpectations = builder.expectations
        nodeMeans = builder.nodeMeans
        maxDepth = builder.depths.max() ?? 0
        outputScale = averageOutput ? 1 / Double(builder.roots.count / perIteration) : 1
    }

    static func transform(objective: String, context: String) throws(ModelError) -> OutputTransform {
        let parts = objective.split(separator: " ")
        let name = parts.first.map(String.init) ?? "regression"
        var sigmoid = 1.0
        var sqrt = false
        for option in parts.dropFirst() {
            if option == "sqrt" { sqrt = true }
            if option.hasPrefix("sigmoid:") {
                guard let s = Double(option.dropFirst("sigmoid:".count)) else {
                    throw .invalid("\(context): objective \"\(objective)\" has an invalid sigmoid parameter")
                }
                sigmoid = s
            }
        }
        switch name {
        case "binary": return .sigmoid(scale: sigmoid)
        case "multiclass", "softmax": return .softmax
        case "multiclassova", "multiclass_ova", "ova", "ovr": return .sigmoidEach(scale: sigmoid)
        case "regression", "regression_l2", "l2", "mean_squared_error", "mse", "l2_root", "root_mean_squared_error", "rmse",
            "regression_l1", "l1", "mean_absolute_error", "mae", "huber", "fair", "quantile", "mape",
            "mean_absolute_percentage_error":
            return sqrt ? .signedSquare : .identity
        case "poisson", "gamma", "tweedie": return .exponential
        case "cross_entropy", "xentropy": return .sigmoid(scale: 1)
        case "cross_entropy_lambda", "xentlambda": return .softplus
        case "lambdarank", "rank_xendcg", "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart", "custom", "none", "null":
            return .identity
        default:
            throw .unsupported("\(context): objective \"\(objective)\" is not supported")
        }
    }
}

extension LightGBMModel {
    /// LightGBM's kZeroThreshold (the float 1e-35f, widened).
    static let zeroThreshold = Double(Float(1e-35))

    /// LightGBM's predictor drops inputs with |x| <= kZeroThreshold (they read as 0) before walking
    /// the trees. Moving thresholds that fall inside that band to its edges makes a raw
    /// `x <= threshold` give the same answer, so the hot path needs no extra test.
    static func zeroBandThreshold(_ t: Double) -> Double {
        if t >= -zeroThreshold && t < 0 { return (-zeroThreshold).nextDown }
        if t >= 0 && t < zeroThreshold { return zeroThreshold }
        return t
    }

    /// Accumulates trees parsed from `Tree=` blocks into the flat arrays.
    struct Builder {
        let featureCount: Int
        var nodes: [LightGBMNode] = []
        var nodeFeatures: [Int32] = []
        var covers: [Double] = []
        var special: [LightGBMSpecialSplit] = []
        var categoryBits: [UInt32] = []
        var roots: [Int] = []
        var depths: [Int] = []
        var hasSpecial: [Bool] = []
        var expectations: [Double] = []
        var nodeMeans: [Double] = []

        init(featureCount: Int) { self.featureCount = featureCount }

        mutating func addTree(fields: [Substring: Substring], context: String) throws(ModelError) {
            func list<T>(_ key: Substring, _ count: Int, _ parse: (Substring) -> T?) throws(ModelError) -> [T] {
                guard let raw = fields[key] else { throw .invalid("\(context): \(key)= is missing") }
                var values: [T] = []
                values.reserveCapacity(count)
                for (i, item) in raw.split(separator: " ").enumerated() {
                    guard let v = parse(item) else {
                        throw .invalid("\(context): \(key) entry \(i) is \"\(item)\", expected a number")
                    }
                    values.append(v)
                }
                guard values.count == count else {
                    throw .invalid("\(context): \(key) has \(values.count) entries, expected \(count)")
                }
                return values
            }
            guard let leavesText = fields["num_leaves"], let numLeaves = Int(leavesText), numLeaves >= 1 else {
                throw .invalid("\(context): num_leaves is \"\(fields["num_leaves"] ?? "missing")\", expected a positive integer")
            }
            if let linear = fields["is_linear"], linear != "0" {
                throw .unsupported("\(context): is_linear=\(linear); linear trees are not supported")
            }
            let base = nodes.count
            let leafValue = try list("leaf_value", numLeaves) { Double($0) }
            if numLeaves == 1 {
                nodes.append(LightGBMNode(threshold: leafValue[0], slot: UInt32(3 * featureCount), left: UInt32(base)))
                nodeFeatures.append(-1)
                covers.append(0)
                special.append(.plain)
                roots.append(base)
                depths.append(0)
                hasSpecial.append(false)
                expectations.append(leafValue[0])
                nodeMeans.append(leafValue[0])
                return
            }
            let splitCount = numLeaves - 1
            let splitFeature = try list("split_feature", splitCount) { Int($0) }
            let thresholds = try list("threshold", splitCount) { Double($0) }
            let decisionType = try list("decision_type", splitCount) { Int($0) }
            let leftChild = try list("left_child", splitCount) { Int($0) }
            let rightChild = try list("right_child", splitCount) { Int($0) }
            let leafCount = try list("leaf_count", numLeaves) { Double($0) }
            let internalCount = try list("internal_count", splitCount) { Double($0) }
            let numCat = Int(fields["num_cat"] ?? "0") ?? 0
            var catBoundaries: [Int] = []
            var catThreshold: [UInt32] = []
            if numCat > 0 {
                catBoundaries = try list("cat_boundaries", numCat + 1) { Int($0) }
                guard let raw = fields["cat_threshold"] else { throw .invalid("\(context): cat_threshold= is missing") }
                catThreshold = try list("cat_threshold", raw.split(separator: " ").count) { UInt32($0) }
                guard catBoundaries.first == 0, catBoundaries.last == catThreshold.count,
                      zip(catBoundaries, catBoundaries.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                    throw .invalid("\(context): cat_boundaries \(catBoundaries) do not partition the \(catThreshold.count) cat_threshold words")
                }
            }
            // Unified ids: internal nodes 0..<splitCount, leaf j at splitCount + j (LightGBM writes leaves as ~j).
            let total = splitCount + numLeaves
            func unified(_ child: Int) -> Int { child >= 0 ? child : splitCount + ~child }
            let layout = try TreeLayout.build(nodeCount: total, root: 0, context: context) { id in
                id < splitCount ? (unified(leftChild[id]), unified(rightChild[id])) : nil
            }
            guard layout.order.count == total else {
                throw .invalid("\(context): only \(layout.order.count) of \(total) nodes are reachable from the root")
            }
            let categoryBase = categoryBits.count
            categoryBits.append(contentsOf: catThreshold)
            var treeSpecial = false
            for (p, id) in layout.order.enumerated() {
                let left = layout.leftPosition[p]
                if left < 0 {
                    let leaf = id - splitCount
                    nodes.append(LightGBMNode(threshold: leafValue[leaf], slot: UInt32(3 * featureCount), left: UInt32(base + p)))
                    nodeFeatures.append(-1)
                    covers.append(leafCount[leaf])
                    special.append(.plain)
                    continue
                }
                let feature = splitFeature[id]
                guard feature >= 0, feature < featureCount else {
                    throw .invalid("\(context): split_feature entry \(id) is \(feature), expected a feature index in 0..<\(featureCount)")
                }
                let decision = decisionType[id]
                let categorical = decision & 1 != 0
                let defaultLeft = decision & 2 != 0
                let missingType = (decision >> 2) & 3
                var slot = feature
                var split = LightGBMSpecialSplit.plain
                let t = thresholds[id]
                var threshold = t
                if categorical {
                    let index = t.isFinite && t.magnitude < 1e9 ? Int(t) : -1
                    guard index >= 0, index < numCat else {
                        throw .invalid("\(context): categorical split \(id) refers to category set \(index), expected 0..<\(numCat) (num_cat)")
                    }
                    split = LightGBMSpecialSplit(kind: .categorical, defaultLeft: false,
                                                 bitsStart: Int32(categoryBase + catBoundaries[index]),
                                                 bitsCount: Int32(catBoundaries[index + 1] - catBoundaries[index]))
                    treeSpecial = true
                } else {
                    // Finite, canonical-zero thresholds keep the sign-bit test exact (see LightGBMModel.fastStep).
                    threshold = max(min(LightGBMModel.zeroBandThreshold(t), .greatestFiniteMagnitude), -.greatestFiniteMagnitude) + 0
                    switch missingType {
                    case 0:  // None: NaN is compared as 0.
                        slot = 2 * featureCount + feature
                    case 2:  // NaN: NaN follows default_left.
                        slot = defaultLeft ? featureCount + feature : feature
                    default:  // Zero: zero and NaN follow default_left.
                        slot = 2 * featureCount + feature
                        split = LightGBMSpecialSplit(kind: .zeroMissing, defaultLeft: defaultLeft, bitsStart: 0, bitsCount: 0)
                        treeSpecial = true
                    }
                }
                nodes.append(LightGBMNode(threshold: threshold, slot: UInt32(slot), left: UInt32(base + left)))
                nodeFeatures.append(Int32(feature))
                covers.append(internalCount[id])
                special.append(split)
            }
            roots.append(base)
            depths.append(layout.maxDepth)
            hasSpecial.append(treeSpecial)
            // LightGBM's Tree::ExpectedValue: leaf values weighted by their share of the root's data count.
            // Node means bottom-up (children always sit after their parent in the layout).
            var means = [Double](repeating: 0, count: layout.order.count)
            for p in stride(from: layout.order.count - 1, through: 0, by: -1) {
                let left = layout.leftPosition[p]
                if left < 0 {
                    means[p] = nodes[base + p].threshold
                } else {
                    let c = covers[base + p]
                    means[p] = c > 0 ? (means[left] * covers[base + left] + means[left + 1] * covers[base + left + 1]) / c : 0
                }
            }
            nodeMeans.append(contentsOf: means)
            let rootCount = internalCount[0]
            var expected = 0.0
            for j in 0..<numLeaves { expected += (leafCount[j] / rootCount) * leafValue[j] }
            expectations.append(expected)
            guard nodes.count < Int(UInt32.max) else { throw .unsupported("\(context): the model has more than 2^32 nodes") }
        }
    }
}
