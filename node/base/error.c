// SPDX-License-Identifier: Apache-2.0
// Messages for the project error codes.
#include "base/error.h"

const char *
lcf_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define LCF_ERR_CASE(name, val, msg) case val: return msg;
	LCF_ERRORS(LCF_ERR_CASE)
#undef LCF_ERR_CASE
	default:
		return "unknown error";
	}
}
