#pragma once
#include <vector>
#include "core/tensor.h"

namespace cr {

}  // namespace cr
