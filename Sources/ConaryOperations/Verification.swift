import ConaryDeploy
import ConaryModel
import ConarySupport
import Foundation

/// `conary verify`: the live /usr against what the database says the active state holds,
/// every file re-hashed.
extension ConaryRoot {
    public func verify() throws -> [TreeProblem] {
        let active = try requireActiveState()
        let live = try trees.liveState()
        if live != active.id {
            let liveText = live.map { "state \($0)" } ?? "nothing"
            return [TreeProblem(kind: .wrongState, path: "/usr", detail: "holds \(liveText), the database says state \(active.id)")]
        }
        var problems: [TreeProblem] = []
        for link in layout.rootLinks {
            do { try trees.checkRootLink(link) } catch {
                problems.append(TreeProblem(kind: .modified, path: link.path, detail: "should be a symlink to \(link.target)"))
            }
            if !FileSystem.exists(String(link.path.dropFirst()), relativeTo: trees.root.fd) {
                problems.append(TreeProblem(kind: .missing, path: link.path, detail: "symlink to \(link.target)"))
            }
        }
        problems += try trees.problems(at: .live, check: TreeCheck(tree: try tree(ofState: active.id), depth: .full))
        return problems.sorted { $0.path < $1.path }
    }
}
