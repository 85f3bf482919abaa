#include "iep/core/error.h"

namespace iep {

const char* exit_name(Exit code) {
  switch (code) {
    case Exit::ok: return "ok";
    case Exit::internal: return "internal";
    case Exit::usage: return "usage";
    case Exit::input: return "input";
    case Exit::not_package: return "not_package";
    case Exit::bad_signature: return "bad_signature";
    case Exit::not_for_us: return "not_for_us";
    case Exit::corrupt: return "corrupt";
    case Exit::invalid_dicom: return "invalid_dicom";
    case Exit::output: return "output";
    case Exit::identity: return "identity";
    case Exit::several_studies: return "several_studies";
    case Exit::quarantined: return "quarantined";
    case Exit::phi_found: return "phi_found";
    case Exit::network: return "network";
    case Exit::rejected: return "rejected";
    case Exit::auth: return "auth";
    case Exit::busy: return "busy";
    case Exit::replayed: return "replayed";
    case Exit::pacs_unreachable: return "pacs_unreachable";
    case Exit::pacs_rejected: return "pacs_rejected";
    case Exit::instances_failed: return "instances_failed";
  }
  return "unknown";
}

}  // namespace iep
