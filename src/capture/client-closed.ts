/** Status logged when the client went away before the response finished (nginx's and Kong's convention). */
export const CLIENT_CLOSED_REQUEST = 499;
