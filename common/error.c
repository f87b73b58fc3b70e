#include "error.h"

const char *tc_strerror(int code)
{
    switch (code) {
    case TC_OK: return "success";
    case TC_ENOMEM: return "out of memory";
    case TC_EINVAL: return "invalid argument";
    case TC_EIO: return "input/output error";
    case TC_ENOTFOUND: return "not found";
    case TC_EDECODE: return "cannot decode message";
    case TC_EVERSION: return "unsupported protocol version";
    case TC_ETOOBIG: return "value too long";
    case TC_EFULL: return "storage full";
    case TC_ECONFIG: return "configuration error";
    case TC_ETIMEOUT: return "timed out";
    case TC_ESYS: return "system call failed";
    case TC_EAUTH: return "not authorized";
    case TC_EDISKFULL: return "disk full";
    default: return "unknown error";
    }
}
