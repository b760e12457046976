// The dsm repository: a git work tree with .dsm/config.yaml, a data
// directory, sidecars and a manifest. (Filled in by issue #3.)
#pragma once

namespace dsm {

class Repository {
public:
};

} // namespace dsm
