/* SPDX-License-Identifier: Apache-2.0 */
/* Project error codes: every function returns 0 or one of these (negative). */
#ifndef LCF_ERROR_H
#define LCF_ERROR_H

/* X(name, value, message). Values are stable: they travel in control replies
 * (so a value no longer used is not given to another code). */
#define LCF_ERRORS(X)                                                         \
	X(LCF_ENOMEM,     -1,  "out of memory")                                \
	X(LCF_EIO,        -2,  "input/output error")                           \
	X(LCF_EINVAL,     -3,  "invalid argument")                             \
	X(LCF_EPROTO,     -4,  "malformed message")                            \
	X(LCF_ETOOBIG,    -5,  "too large")                                    \
	X(LCF_ENOTFOUND,  -6,  "not found")                                    \
	X(LCF_EEXIST,     -7,  "already exists")                               \
	X(LCF_EBADSIG,    -8,  "bad signature")                                \
	X(LCF_EKEYPERM,   -9,  "key file readable by group or others")         \
	X(LCF_ESTORE,     -10, "database error")                               \
	X(LCF_EMAPFULL,   -11, "database map is full")                         \
	X(LCF_EVALIDATE,  -12, "record failed validation")                     \
	X(LCF_EVERSION,   -13, "unsupported protocol version")                 \
	X(LCF_EPERM,      -14, "permission denied")                            \
	X(LCF_ECONNECT,   -15, "cannot connect")                               \
	X(LCF_ECONFIG,    -16, "configuration error")                          \
	X(LCF_ECRYPTO,    -19, "decryption or handshake failure")              \
	X(LCF_EAMBIGUOUS, -20, "ambiguous identifier prefix")                  \
	X(LCF_EBUSY,      -21, "busy")                                         \
	X(LCF_ECLOSED,    -22, "connection closed")                            \
	X(LCF_ETIMEDOUT,  -23, "timed out")                                    \
	X(LCF_ENOSPC,     -24, "the disk holding the database is full: free "  \
	    "some space on it")                                                \
	X(LCF_EMEASURED,  -25, "measured: the session ends without a transfer") \
	X(LCF_EFULL,      -30, "limit reached")

enum lcf_error {
#define LCF_ERR_ENUM(name, val, msg) name = val,
	LCF_ERRORS(LCF_ERR_ENUM)
#undef LCF_ERR_ENUM
};

/* Returns a static message for a project code; never NULL. */
const char *lcf_strerror(int code);

#endif
