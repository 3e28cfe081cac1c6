"""Search attributes deliveries are listed by, without scanning histories.

`temporal workflow list --query "ShipmateService='orders-api' AND ShipmateState='failed'"`
"""

from temporalio.common import SearchAttributeKey

SERVICE = SearchAttributeKey.for_keyword("ShipmateService")
ENVIRONMENT = SearchAttributeKey.for_keyword_list("ShipmateEnvironment")
STATE = SearchAttributeKey.for_keyword("ShipmateState")
REQUESTER = SearchAttributeKey.for_keyword("ShipmateRequester")
CHANNEL = SearchAttributeKey.for_keyword("ShipmateChannel")
THREAD = SearchAttributeKey.for_keyword("ShipmateThread")

ALL = [SERVICE, ENVIRONMENT, STATE, REQUESTER, CHANNEL, THREAD]
