/*
 * error.h - tocsin's error codes.
 *
 * Every fallible tocsin function returns an int: 0 on success, one of the
 * negative TC_E* codes below on failure. tc_strerror() turns any of them into
 * a short English phrase. Codes from libraries (LMDB, ZeroMQ, protobuf-c) are
 * translated into these by the one module that talks to that library.
 */
#ifndef TC_ERROR_H
#define TC_ERROR_H

enum {
    TC_OK = 0,
    TC_ENOMEM = -1,     /* allocation failed */
    TC_EINVAL = -2,     /* invalid argument or field */
    TC_EIO = -3,        /* I/O or storage failure */
    TC_ENOTFOUND = -4,  /* no such item */
    TC_EDECODE = -5,    /* bytes could not be decoded */
    TC_EVERSION = -6,   /* unsupported protocol version */
    TC_ETOOBIG = -7,    /* value longer than its limit */
    TC_EFULL = -8,      /* storage full (LMDB map size reached) */
    TC_ECONFIG = -9,    /* configuration error */
    TC_ETIMEOUT = -10,  /* no answer in time */
    TC_ESYS = -11,      /* system call failed; see errno */
    TC_EAUTH = -12,     /* the peer refused our credentials */
    TC_EDISKFULL = -13, /* the file system is full (ENOSPC, EDQUOT) */
};

/* Returns a static, never-NULL description of `code`. Thread-safe. */
const char *tc_strerror(int code);

#endif
