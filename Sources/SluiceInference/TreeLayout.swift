/// Breadth-first renumbering of one tree so that the right child always follows the left one.
///
/// With `right == left + 1` the evaluators pick a child with one addition, and every tree
/// occupies one contiguous range of the ensemble's node array.
struct TreeLayout {
    /// `order[p]` is the original id of the node placed at position `p` (the root at 0).
    var order: [Int]
    /// `leftPosition[p]` is the position of the left child of position `p`, or -1 for a leaf.
    var leftPosition: [Int]
    /// Depth of the deepest leaf (0 for a single-leaf tree).
    var maxDepth: Int

    /// Lays out the tree reachable from `root`.
    /// - Parameters:
    ///   - nodeCount: Number of original node ids (`0..<nodeCount`).
    ///   - children: Returns the original ids of the left and right child, or `nil` for a leaf.
    ///   - context: Prefix for error messages, e.g. `xgboost JSON: ...trees[3]`.
    /// - Throws: ``ModelError`` when a child id is out of range or a node is reached twice.
    static func build(
        nodeCount: Int, root: Int, context: String, children: (Int) -> (Int, Int)?
    ) throws(ModelError) -> TreeLayout {
        guard root >= 0, root < nodeCount else {
            throw .invalid("\(context): tree has no root node (\(nodeCount) nodes)")
        }
        var visited = [Bool](repeating: false, count: nodeCount)
        var order = [root]
        var leftPosition: [Int] = []
        var depth = [0]
        var maxDepth = 0
        visited[root] = true
        order.reserveCapacity(nodeCount)
        var p = 0
        while p < order.count {
            let node = order[p]
            if let (left, right) = children(node) {
                for child in [left, right] {
                    guard child >= 0, child < nodeCount else {
                        throw .invalid("\(context): node \(node) has child \(child), expected a node id in 0..<\(nodeCount)")
                    }
                    guard !visited[child] else {
                        throw .invalid("\(context): node \(child) is reached twice (the tree has a cycle or a shared node)")
                    }
                    visited[child] = true
                }
                leftPosition.append(order.count)
                order.append(left)
                order.append(right)
                depth.append(depth[p] + 1)
                depth.append(depth[p] + 1)
                maxDepth = max(maxDepth, depth[p] + 1)
            } else {
                leftPosition.append(-1)
            }
            p += 1
        }
        return TreeLayout(order: order, leftPosition: leftPosition, maxDepth: maxDepth)
    }
}
