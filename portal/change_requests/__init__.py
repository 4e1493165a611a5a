"""Document change requests (文件更改申请): asked by anyone, decided by the controller or the
owner department's approver, implemented by the revision they open."""
