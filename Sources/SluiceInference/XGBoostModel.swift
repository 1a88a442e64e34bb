import Foundation

/// One node of the flattened XGBoost ensemble (12 bytes, one load per visited node).
///
/// Scoring reads a prepared row of `3 * featureCount + 1` float32 values: the row with NaN
/// replaced by +inf, then with NaN replaced by -inf, then the row as is (for categorical
/// splits), then one -inf. A split whose missing values
/// go right reads the first copy, one whose missing values go left reads the second, so
/// `x >= threshold` alone picks the child (+inf goes right, -inf left) with no NaN test.
/// Thresholds are finite (infinite ones are clamped to the largest float) and never -0.
/// Leaves read the trailing -inf (never `>=` their value) and loop onto themselves, so every
/// tree is walked with a fixed number of branch-free steps; a leaf's `threshold` is its value.
struct XGBoostNode {
    /// Split threshold in float32, as XGBoost compares; the leaf value for leaves.
    var threshold: Float
    /// Index into the prepared row (feature, feature + featureCount for default-left,
    /// feature + 2 * featureCount for categorical splits, or the -inf slot).
    var slot: UInt32
    /// Position of the left child (the node itself for leaves); the right child is `left + 1`.
    var left: UInt32
}

/// The category set of a categorical XGBoost split (`bitsCount` < 0 for other nodes).
struct XGBoostCategorySplit: Sendable {
    /// Range of 32-bit words in ``XGBoostModel/categoryBits``; a set bit sends the category right.
    var bitsStart: Int32
    var bitsCount: Int32
    /// Where a missing value goes.
    var defaultLeft: Bool

    static let none = XGBoostCategorySplit(bitsStart: 0, bitsCount: -1, defaultLeft: false)
}

/// A native evaluator for XGBoost tree ensembles saved as JSON (`Booster.save_model("m.json")`).
///
/// Reproduces XGBoost's arithmetic: inputs are converted to float32 before comparison with the
/// float32 thresholds (`x < threshold` goes left, NaN follows `default_left`), and leaf values
/// are summed in float32 in tree order starting from the base margin, so margins match
/// `predict(output_margin=True)` bit for bit. Supported objectives: `binary:logistic`,
/// `binary:logitraw`, `binary:hinge`, `reg:logistic`, `reg:squarederror`, `reg:squaredlogerror`,
/// `reg:absoluteerror`, `reg:pseudohubererror`, `reg:quantileerror`, `count:poisson`, `reg:gamma`,
/// `reg:tweedie`, `multi:softprob`, `multi:softmax` and `rank:*`; gbtree and dart boosters.
/// Categorical splits (`enable_categorical`) take the integer category code used in training:
/// a category in the split's set goes right; a missing value follows `default_left`; negative,
/// unseen or out-of-range codes go left, as in XGBoost. Multi-target trees are refused.
package struct XGBoostModel: Model {
    package var format: ModelFormat { .xgboostJSON }
    package let featureNames: [String]
    package let outputCount: Int
    package let marginCount: Int
    /// The objective name from the file, e.g. `binary:logistic`.
    package let objective: String
    /// Number of trees in the ensemble.
    package var treeCount: Int { treeRoots.count }

    let nodes: [XGBoostNode]
    /// Per node, the category set of a categorical split.
    let categorySplits: [XGBoostCategorySplit]
    /// Category bitsets of all categorical splits (never empty).
    let categoryBits: [UInt32]
    let treeHasCategorical: [Bool]
    /// Whether any tree has a categorical split (then single rows walk trees one at a time).
    let hasCategorical: Bool
    /// Original feature index of each node (-1 for leaves), for explanations.
    let nodeFeatures: [Int32]
    let covers: [Double]
    let treeRoots: [Int]
    let treeDepths: [Int]
    let treeGroups: [Int]
    /// Expected leaf value of each tree under the training cover (the TreeSHAP bias term).
    let treeExpectations: [Double]
    /// Cover-weighted mean leaf value under each node (XGBoost's node_mean_values), for path attribution.
    let nodeMeans: [Double]
    /// Base margin per output group, in float32 as XGBoost keeps it.
    let baseMargins: [Float]
    let transform: OutputTransform
    let maxDepth: Int

    /// Loads an XGBoost JSON model.
    /// - Throws: ``ModelError`` naming the field that is missing, malformed or unsupported.
    package init(data: Data) throws(ModelError) {
        let document = try XGBoostJSON.decode(data)
        let learner = document.learner
        let context = "xgboost JSON: learner"
        let objective = learner.objective.name
        guard let numFeature = Int(learner.learnerModelParam.numFeature), numFeature >= 0 else {
            throw .invalid("\(context).learner_model_param.num_feature is \"\(learner.learnerModelParam.numFeature)\", expected an integer")
        }
        guard let numClass = Int(learner.learnerModelParam.numClass), numClass >= 0 else {
            throw .invalid("\(context).learner_model_param.num_class is \"\(learner.learnerModelParam.numClass)\", expected an integer")
        }
        if let targets = learner.learnerModelParam.numTarget, let t = Int(targets), t > 1 {
            throw .unsupported("\(context).learner_model_param.num_target is \(t); multi-target models are not supported")
        }
        let groups = max(numClass, 1)

        let names = learner.featureNames ?? []
        if names.isEmpty {
            featureNames = (0..<numFeature).map { "f\($0)" }
        } else if names.count != numFeature {
            throw .invalid("\(context).feature_names has \(names.count) entries, expected \(numFeature) (num_feature)")
        } else {
            featureNames = names
        }

        // Objective → link, and how base_score (kept in probability space for logistic losses) maps to a margin.
        enum BaseScoreSpace { case margin, probability, logarithm }
        let space: BaseScoreSpace
        switch objective {
        case "binary:logistic", "reg:logistic":
            transform = .sigmoid(scale: 1)
            space = .probability
        case "binary:logitraw":
            transform = .identity
            space = .probability
        case "binary:hinge":
            transform = .hinge
            space = .margin
        case "reg:squarederror", "reg:linear", "reg:squaredlogerror", "reg:absoluteerror", "reg:pseudohubererror",
            "reg:quantileerror":
            transform = .identity
            space = .margin
        case "count:poisson", "reg:gamma", "reg:tweedie":
            transform = .exponential
            space = .logarithm
        case "multi:softprob":
            transform = .softmax
            space = .margin
        case "multi:softmax":
            transform = .argmax
            space = .margin
        default:
            if objective.hasPrefix("rank:") {
                transform = .identity
                space = .margin
            } else {
                throw .unsupported("\(context).objective.name is \"\(objective)\", which this evaluator does not support")
            }
        }
        self.objective = objective
        marginCount = groups
        outputCount = transform.outputCount(marginCount: groups)
        if (transform == .softmax || transform == .argmax) && numClass < 2 {
            throw .invalid("\(context).learner_model_param.num_class is \(numClass), expected at least 2 for \(objective)")
        }

        let rawBase = try Self.parseBaseScore(learner.learnerModelParam.baseScore, context: context)
        guard rawBase.count == 1 || rawBase.count == groups else {
            throw .invalid("\(context).learner_model_param.base_score has \(rawBase.count) values, expected 1 or \(groups) (num_class)")
        }
        baseMargins = (0..<groups).map { k in
            let p = rawBase.count == 1 ? rawBase[0] : rawBase[k]
            switch space {
            case .margin: return p
            case .probability: return -Float(log(Double(1 / p - 1)))
            case .logarithm: return Float(log(Double(p)))
            }
        }

        // Trees.
        let booster = learner.gradientBooster
        let model: XGBoostJSON.GBTreeModel
        var weights: [Double]? = nil
        let boosterPath = "\(context).gradient_booster"
        switch booster.name {
        case "gbtree":
            guard let m = booster.model else { throw .invalid("\(boosterPath).model is missing") }
            model = m
        case "dart":
            guard let m = booster.gbtree?.model else { throw .invalid("\(boosterPath).gbtree.model is missing") }
            model = m
            weights = booster.weightDrop ?? []
        default:
            throw .unsupported("\(boosterPath).name is \"\(booster.name)\", expected gbtree or dart (gblinear is not supported)")
        }
        let modelPath = booster.name == "dart" ? "\(boosterPath).gbtree.model" : "\(boosterPath).model"
        guard model.treeInfo.count == model.trees.count else {
            throw .invalid("\(modelPath).tree_info has \(model.treeInfo.count) entries, expected \(model.trees.count) (one per tree)")
        }
        if let w = weights, w.count != model.trees.count {
            throw .invalid("\(boosterPath).weight_drop has \(w.count) entries, expected \(model.trees.count) (one per tree)")
        }

        var nodes: [XGBoostNode] = []
        var nodeFeatures: [Int32] = []
        let leafSlot = UInt32(3 * numFeature)
        var categorySplits: [XGBoostCategorySplit] = []
        var categoryBits: [UInt32] = [0]
        var treeHasCategorical: [Bool] = []
        var covers: [Double] = []
        var roots: [Int] = [], depths: [Int] = [], treeGroups: [Int] = [], expectations: [Double] = []
        var nodeMeans: [Double] = []
        var deepest = 0
        for (t, tree) in model.trees.enumerated() {
            let treePath = "\(modelPath).trees[\(t)]"
            guard let n = Int(tree.treeParam.numNodes), n > 0 else {
                throw .invalid("\(treePath).tree_param.num_nodes is \"\(tree.treeParam.numNodes)\", expected a positive integer")
            }
            if let size = tree.treeParam.sizeLeafVector, let s = Int(size), s > 1 {
                throw .unsupported("\(treePath).tree_param.size_leaf_vector is \(s); multi-target trees are not supported")
            }
            func check(_ name: String, _ count: Int) throws(ModelError) {
                if count != n {
                    throw .invalid("\(treePath).\(name) has \(count) entries, expected \(n) (num_nodes)")
                }
            }
            try check("left_children", tree.leftChildren.count)
            try check("right_children", tree.rightChildren.count)
            try check("split_conditions", tree.splitConditions.count)
            try check("split_indices", tree.splitIndices.count)
            try check("default_left", tree.defaultLeft.values.count)
            try check("sum_hessian", tree.sumHessian.count)
            // Categorical splits: node id -> the categories that go right.
            var categorySets: [Int: ArraySlice<Int>] = [:]
            if let types = tree.splitType {
                try check("split_type", types.count)
                if let node = types.indices.first(where: { types[$0] != 0 && types[$0] != 1 }) {
                    throw .unsupported("\(treePath).split_type[\(node)] is \(types[node]), expected 0 (numerical) or 1 (categorical)")
                }
                if types.contains(1) {
                    let categories = tree.categories ?? [], nodesList = tree.categoriesNodes ?? []
                    let segments = tree.categoriesSegments ?? [], sizes = tree.categoriesSizes ?? []
                    guard segments.count == nodesList.count, sizes.count == nodesList.count else {
                        throw .invalid("\(treePath).categories_segments (\(segments.count)) and categories_sizes (\(sizes.count)) must have one entry per categories_nodes entry (\(nodesList.count))")
                    }
                    for (i, node) in nodesList.enumerated() {
                        let start = segments[i], size = sizes[i]
                        guard node >= 0, node < n, start >= 0, size >= 0, start + size <= categories.count else {
                            throw .invalid("\(treePath).categories_nodes[\(i)] = \(node) has segment \(start)..+\(size) outside categories (\(categories.count) entries)")
                        }
                        categorySets[node] = categories[start..<(start + size)]
                    }
                    if let node = types.indices.first(where: { types[$0] == 1 && tree.leftChildren[$0] != -1 && categorySets[$0] == nil }) {
                        throw .invalid("\(treePath).split_type[\(node)] is categorical but node \(node) is not in categories_nodes")
                    }
                }
            }
            var hasCategorical = false
            let group = model.treeInfo[t]
            guard group >= 0, group < groups else {
                throw .invalid("\(modelPath).tree_info[\(t)] is \(group), expected an output group in 0..<\(groups)")
            }
            let layout = try TreeLayout.build(nodeCount: n, root: 0, context: treePath) { i in
                tree.leftChildren[i] == -1 ? nil : (tree.leftChildren[i], tree.rightChildren[i])
            }
            let base = nodes.count
            let weight = weights.map { Float($0[t]) }
            for (p, original) in layout.order.enumerated() {
                let left = layout.leftPosition[p]
                if left < 0 {
                    var value = Float(tree.splitConditions[original])
                    if let w = weight { value *= w }
                    nodes.append(XGBoostNode(threshold: value, slot: leafSlot, left: UInt32(base + p)))
                    nodeFeatures.append(-1)
                    categorySplits.append(.none)
                } else {
                    let feature = tree.splitIndices[original]
                    guard feature >= 0, feature < numFeature else {
                        throw .invalid("\(treePath).split_indices[\(original)] is \(feature), expected a feature index in 0..<\(numFeature) (num_feature)")
                    }
                    if let set = categorySets[original] {
                        // Bitset of the categories that go right.
                        let largest = set.max() ?? -1
                        guard set.allSatisfy({ $0 >= 0 && $0 < 1 << 24 }) else {
                            throw .invalid("\(treePath): categorical split \(original) has a category outside 0..<2^24")
                        }
                        let words = largest < 0 ? 0 : largest / 32 + 1
                        let start = categoryBits.count
                        categoryBits.append(contentsOf: [UInt32](repeating: 0, count: words))
                        for c in set { categoryBits[start + c / 32] |= 1 << UInt32(c % 32) }
                        nodes.append(XGBoostNode(threshold: 0, slot: UInt32(2 * numFeature + feature), left: UInt32(base + left)))
                        categorySplits.append(XGBoostCategorySplit(bitsStart: Int32(start), bitsCount: Int32(words),
                                                                   defaultLeft: tree.defaultLeft.values[original]))
                        hasCategorical = true
                    } else {
                        let slot = tree.defaultLeft.values[original] ? feature + numFeature : feature
                        // Canonical zero and finite thresholds keep the sign-bit test exact (see XGBoostModel.step).
                        let threshold = max(min(Float(tree.splitConditions[original]), .greatestFiniteMagnitude), -.greatestFiniteMagnitude) + 0
                        nodes.append(XGBoostNode(threshold: threshold, slot: UInt32(slot), left: UInt32(base + left)))
                        categorySplits.append(.none)
                    }
                    nodeFeatures.append(Int32(feature))
                }
                covers.append(tree.sumHessian[original])
            }
            roots.append(base)
            depths.append(layout.maxDepth)
            treeGroups.append(group)
            treeHasCategorical.append(hasCategorical)
            deepest = max(deepest, layout.maxDepth)
            // Mean value of the root: each node is the cover-weighted mean of its children (XGBoost's node_mean_values).
            var means = [Double](repeating: 0, count: layout.order.count)
            for p in stride(from: layout.order.count - 1, through: 0, by: -1) {
                let left = layout.leftPosition[p]
                if left < 0 {
                    means[p] = Double(nodes[base + p].threshold)
                } else {
                    let c = covers[base + p]
                    means[p] = c > 0 ? (means[left] * covers[base + left] + means[left + 1] * covers[base + left + 1]) / c : 0
                }
            }
            expectations.append(means[0])
            nodeMeans.append(contentsOf: means)
        }
        guard nodes.count < Int(UInt32.max) else { throw .unsupported("xgboost JSON: the model has more than 2^32 nodes") }
        if nodes.isEmpty {
            // A model with no trees predicts its base score; one unused leaf keeps every node buffer non-empty.
            nodes.append(XGBoostNode(threshold: 0, slot: leafSlot, left: 0))
            nodeFeatures.append(-1)
            covers.append(0)
            categorySplits.append(.none)
            nodeMeans.append(0)
        }
        self.nodes = nodes
        self.categorySplits = categorySplits
        self.categoryBits = categoryBits
        self.treeHasCategorical = treeHasCategorical
        self.hasCategorical = treeHasCategorical.contains(true)
        self.nodeFeatures = nodeFeatures
        self.covers = covers
        self.treeRoots = roots
        self.treeDepths = depths
        self.treeGroups = treeGroups
        self.treeExpectations = expectations
        self.nodeMeans = nodeMeans
        self.maxDepth = deepest
    }

    /// Parses `base_score`: `"5E-1"` (XGBoost < 3) or a vector `"[5E-1]"` / `"[a,b,c]"` (XGBoost ≥ 3).
    static func parseBaseScore(_ text: String, context: String) throws(ModelError) -> [Float] {
        var body = Substring(text).trimmingCharacters(in: .whitespaces)[...]
        if body.hasPrefix("[") && body.hasSuffix("]") {
            body = body.dropFirst().dropLast()
        }
        var values: [Float] = []
        for part in body.split(separator: ",") {
            guard let v = Double(part.trimmingCharacters(in: .whitespaces)) else {
                throw .invalid("\(context).learner_model_param.base_score is \"\(text)\", expected a number or a list of numbers")
            }
            values.append(Float(v))
        }
        if values.isEmpty {
            throw .invalid("\(context).learner_model_param.base_score is \"\(text)\", expected a number or a list of numbers")
        }
        return values
    }
}
