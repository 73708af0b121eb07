#pragma once
// Every op of the engine, by family. Each family header declares its ops; forward kernels and the
// backward Nodes of a family live together in its .cpp.
#include "ops/activation.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/linalg.h"
#include "ops/math.h"
#include "ops/matrix.h"
#include "ops/nn.h"
#include "ops/norm.h"
#include "ops/optim.h"
#include "ops/reduce.h"
#include "ops/scan.h"
#include "ops/scatter.h"
#include "ops/shape.h"
#include "ops/sort.h"
