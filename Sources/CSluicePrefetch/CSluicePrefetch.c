// The module is the inline function in include/CSluicePrefetch.h; SwiftPM needs one source file.
#include "CSluicePrefetch.h"
