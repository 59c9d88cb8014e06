// Being written (protocol codec).
#include "common/protocol/codec.h"
