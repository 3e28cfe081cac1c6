"""Bearer tokens: who is calling, and whether they may."""

from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Account

SECRET_KEY = "c2f1e9b4d7a8306f5e2b1c9d8a7f6e5d"
ALGORITHM = "HS256"
oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token")


def current_user(
    token: Annotated[str, Depends(oauth2)], session: Annotated[Session, Depends(get_session)]
) -> Account:
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
    except jwt.PyJWTError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in") from None
    account = session.scalar(select(Account).where(Account.username == claims.get("sub")))
    if account is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in")
    return account


def require_admin(account: Annotated[Account, Depends(current_user)]) -> Account:
    if account.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return account


SignedIn = Annotated[Account, Depends(current_user)]
