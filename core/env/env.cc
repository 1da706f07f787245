// Anchor translation unit for the core/env library (its interfaces are header-only).
#include "core/env/event.h"
